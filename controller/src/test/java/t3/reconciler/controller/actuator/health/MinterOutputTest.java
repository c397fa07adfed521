package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code t3 auth pairing create --json} prints: one line (the stand-in), or pretty-printed (t3 0.0.33). */
class MinterOutputTest {
    @Test
    void prettyPrintedJsonOfTheRealServer() {
        String out = "{\n  \"id\": \"3f1c\",\n  \"credential\": \"ABCDEFGHJKLM\",\n  \"scopes\": [\n    \"orchestration:read\",\n    \"relay:read\"\n  ],\n"
                + "  \"expiresAt\": \"2026-11-29T03:53:18.362Z\"\n}\n";
        assertEquals(Optional.of("ABCDEFGHJKLM"), Minter.credentialIn(out));
    }

    @Test
    void oneLineAfterChatter() {
        assertEquals(Optional.of("c1"), Minter.credentialIn("applied migration 5\n{\"id\":\"x\",\"credential\":\"c1\",\"role\":\"owner\"}\n"));
    }

    @Test
    void noObjectOrNoCredentialIsNone() {
        assertEquals(Optional.empty(), Minter.credentialIn("Error: database is locked\n"));
        assertEquals(Optional.empty(), Minter.credentialIn("{\n  \"id\": \"x\"\n}\n"));
        assertEquals(Optional.empty(), Minter.credentialIn("{\n  \"credential\": \"trunc"));
    }
}
