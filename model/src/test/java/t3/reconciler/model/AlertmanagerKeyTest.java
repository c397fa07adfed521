package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** alerts.alertmanager: Alertmanager's base URL, an alternative to alerts.webhook. */
class AlertmanagerKeyTest {
    @TempDir
    Path dir;

    @Test
    void theBaseUrlIsKeptAndNotesNoLongerSayJournalOnly() throws Exception {
        DesiredState s = DesiredStateLoader.parse("users: [alice, bob]\nalerts: {alertmanager: 'http://127.0.0.1:9093/am'}\n", dir.resolve("d.yaml"));
        assertEquals(Optional.of(URI.create("http://127.0.0.1:9093/am")), s.alerts().alertmanager());
        assertEquals(Optional.empty(), s.alerts().webhook());
        assertEquals(List.of(), DesiredStateLoader.notes(s));
        assertEquals(Optional.empty(), DesiredStateLoader.parse("users: [alice]\n", dir.resolve("d.yaml")).alerts().alertmanager());
    }

    @Test
    void bothDestinationsAtOnceAreRefusedWithFileLineAndField() throws Exception {
        assertEquals(List.of(dir.resolve("d.yaml") + ":4:17: alerts.alertmanager: is an alternative to alerts.webhook: set one of them, not both"),
                problems("users: [alice]\nalerts:\n  webhook: 'https://h.example.com/'\n  alertmanager: 'http://127.0.0.1:9093'\n"));
    }

    @Test
    void aUrlThatAlreadyNamesTheApiIsRefused() throws Exception {
        List<String> p = problems("users: [alice]\nalerts: {alertmanager: 'http://127.0.0.1:9093/api/v2/alerts'}\n");
        assertEquals(1, p.size(), p.toString());
        assertEquals(true, p.get(0).startsWith(dir.resolve("d.yaml") + ":2:") && p.get(0).contains("alerts.alertmanager") && p.get(0).contains("base URL"), p.toString());
        assertEquals(1, problems("users: [alice]\nalerts: {alertmanager: 'ftp://h'}\n").size());
    }

    private List<String> problems(String yaml) throws Exception {
        Path f = Files.writeString(dir.resolve("d.yaml"), yaml);
        InvalidDesiredStateException e = assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.load(f));
        return e.problems().stream().map(Problem::toString).toList();
    }
}
