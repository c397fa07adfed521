package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** docs/desired-state.schema.json is for editors and CI linting; it must agree with the loader. */
class DesiredStateSchemaTest {
    private static final Path SCHEMA_FILE = DesiredStateLoaderTest.exampleFile().getParent().resolve("docs/desired-state.schema.json");

    private static JsonNode schemaJson() throws Exception {
        return new ObjectMapper().readTree(Files.readString(SCHEMA_FILE));
    }

    private static Set<ValidationMessage> validate(String yaml) throws Exception {
        JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaJson());
        return schema.validate(new YAMLMapper().readTree(yaml));
    }

    @Test
    void exampleFileValidates() throws Exception {
        assertEquals(Set.of(), validate(Files.readString(DesiredStateLoaderTest.exampleFile())));
    }

    @Test
    void aMinimalFileValidates() throws Exception {
        assertEquals(Set.of(), validate("users: [alice]\n"));
        assertEquals(Set.of(), validate("users: [alice]\nfleet: {endpoints: ['http://127.0.0.1:2379']}\n"));
        assertEquals(Set.of(), validate("users: [{name: bob, login: bob@corp.example}]\ncontroller: {metrics: off}\npin: 1.0.0-rc.1+b\n"));
    }

    /** Each is refused by the loader too; the schema must not be looser on the checks it can express. */
    @ParameterizedTest
    @ValueSource(strings = {
            "users: [alice]\nheathCheck: {}\n",
            "users: [alice]\ntrack: beta\n",
            "users: [alice]\npin: v1.0.0\n",
            "users: [Alice]\n",
            "users: [{login: x}]\n",
            "users: [alice]\npackage: T3\n",
            "users: [alice]\npackage: '-g'\n",
            "users: [alice]\ninstall: {registry: 'https://u:p@npm.example.com/'}\n",
            "users: [alice]\nunit: t3.service\n",
            "users: [alice]\nunit: 't3-{user}.socket'\n",
            "users: [alice]\ndatabase: /home/x.sqlite\n",
            "users: [alice]\ninstall: {timeout: 5x}\n",
            "users: [alice]\ninstall: {keepVersions: 1}\n",
            "users: [alice]\ninstall: {registry: 'ftp://x'}\n",
            "users: [alice]\nhealthCheck: {port: 80}\n",
            "users: [alice]\nhealthCheck: {pairingEndpoints: [api/x]}\n",
            "users: [alice]\nhealthCheck: {pairingEndpoints: []}\n",
            "users: [alice]\nbackup: {dailyAt: '25:00'}\n",
            "users: [alice]\nschedule: {window: 3am-6am}\n",
            "users: [alice]\nbreaker: {policy: panic}\n",
            "users: [alice]\ncontroller: {metrics: '9464'}\n",
            "users: [alice]\ncontroller: {bus: 'tcp:host=x'}\n",
            "users: [alice]\ncontroller: {stateDb: state.db}\n",
            "users: [alice]\nfreeze: maybe\n",
            "users: [alice]\nfleet: {group: g}\n",
            "users: [alice]\nfleet: {endpoints: []}\n",
            "users: [alice]\nfleet: {endpoints: ['http://h']}\n",
            "users: [alice]\nfleet: {endpoints: ['http://h:2379/v3']}\n",
            "users: [alice]\nfleet: {endpoints: ['https://h:2379'], tls: {cert: /c.pem}}\n",
            "users: [alice]\nfleet: {endpoints: ['http://h:2379'], maxConcurrentHosts: 0}\n",
            "users: [alice]\nfleet: {endpoints: ['http://h:2379'], group: 'A/b'}\n",
            "users: [alice]\nfleet: {endpoints: ['http://h:2379'], canaryHosts: [a, a]}\n"})
    void schemaRejectsWhatTheLoaderRejects(String yaml) throws Exception {
        assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.parse(yaml, Path.of("t.yaml")));
        assertFalse(validate(yaml).isEmpty(), yaml);
    }

    @Test
    void schemaAndLoaderKnowTheSameKeys() throws Exception {
        Set<String> inSchema = new TreeSet<>();
        collect(schemaJson(), "", inSchema);
        assertEquals(new TreeSet<>(DesiredStateLoader.knownKeys()), inSchema);
    }

    @Test
    void schemaIsDraft202012AndClosed() throws Exception {
        JsonNode s = schemaJson();
        assertEquals("https://json-schema.org/draft/2020-12/schema", s.get("$schema").asText());
        assertTrue(s.get("additionalProperties").isBoolean() && !s.get("additionalProperties").asBoolean());
    }

    /** Property names, as dotted paths; list items of objects (users) appear as {@code users[].name}. */
    private static void collect(JsonNode node, String prefix, Set<String> out) {
        JsonNode props = node.get("properties");
        if (props != null) {
            for (Iterator<String> it = props.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                String path = prefix.isEmpty() ? key : prefix + "." + key;
                out.add(path);
                JsonNode child = props.get(key);
                collect(child, path, out);
                JsonNode items = child.get("items");
                if (items != null) {
                    collect(items, path + "[]", out);
                    if (items.has("oneOf")) items.get("oneOf").forEach(alt -> collect(alt, path + "[]", out));
                }
            }
        }
    }
}
