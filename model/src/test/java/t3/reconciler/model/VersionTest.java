package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VersionTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "0.0.0", "1.2.3", "0.0.25", "0.0.25-nightly.20260608.497", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
            "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD",
            "10.20.30", "9007199254740991.0.0", "1.0.0-0A", "1.0.0--"})
    void acceptsStrictSemver(String s) {
        assertEquals(s, Version.parse(s).toString());
        assertTrue(Version.isValid(s));
    }

    @Test
    void readsTheParts() {
        Version v = Version.parse("0.0.25-nightly.20260608.497");
        assertEquals(0, v.major());
        assertEquals(0, v.minor());
        assertEquals(25, v.patch());
        assertTrue(v.isPrerelease());
        assertTrue(v.isNightly());
        assertFalse(Version.parse("0.0.25").isNightly());
        assertFalse(Version.parse("0.0.25-rc.1").isNightly());
        assertFalse(Version.parse("0.0.25-nightlyx.1").isNightly());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", " ", "1", "1.2", "1.2.3.4", "v1.2.3", "V1.2.3", "=1.2.3", " 1.2.3", "1.2.3 ", "1.2.3\n", "1.2.3\n; rm -rf /",
            "0.0.1; rm -rf /", "0.0.1 && true", "$(id)", "`id`", "../../etc", "1.2.3/../../etc", "1.2.3-../x", "1.2.3-a/b",
            "01.2.3", "1.02.3", "1.2.03", "1.2.3-01", "1.2.3-alpha.01", "1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3+a..b",
            "1.2.3-a_b", "1.2.3+a_b", "-1.2.3", "1.-2.3", "1.2.3-ä", "1.2.3-nightly.2026\u00a0",
            "\u0661.2.3", "1.\u0662.3", "1.2.\uff13", "１.2.3", "1.2.3-\u0661", "1\u20242.3", "1.2.3\u2010rc", "1.2.3-rc\u0131",
            "9007199254740992.0.0", "99999999999999999999.0.0", "1.2.3-9007199254740992", "1.2.3\u0000"})
    void rejectsAnythingElse(String s) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Version.parse(s));
        assertFalse(Version.isValid(s));
        // The message is shown to operators: one line, no raw control characters.
        assertFalse(e.getMessage().chars().anyMatch(c -> c < 0x20), e.getMessage());
    }

    @Test
    void rejectsNullAndTooLong() {
        assertThrows(IllegalArgumentException.class, () -> Version.parse(null));
        String longest = "1.2.3-" + "a".repeat(Version.MAX_LENGTH - 6);
        assertEquals(Version.MAX_LENGTH, longest.length());
        assertEquals(longest, Version.parse(longest).toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Version.parse(longest + "a"));
        assertEquals("version is longer than 256 characters", e.getMessage());
    }

    @Test
    void messagesNameTheText() {
        assertEquals("'v1.0.0' is not a semver version (expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])",
                assertThrows(IllegalArgumentException.class, () -> Version.parse("v1.0.0")).getMessage());
        assertEquals("'1.2.3\\u000a' is not a semver version (expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])",
                assertThrows(IllegalArgumentException.class, () -> Version.parse("1.2.3\n")).getMessage());
    }

    @Test
    void semverOrgPrecedence() {
        assertStrictlyAscending("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0");
        assertStrictlyAscending("1.0.0", "2.0.0", "2.1.0", "2.1.1");
    }

    @Test
    void nightliesSortBeforeTheirReleaseAndAfterThePreviousOne() {
        assertStrictlyAscending("0.0.24", "0.0.25-nightly.20260601", "0.0.25", "0.0.26-nightly.20260602", "0.0.26");
        assertStrictlyAscending("0.0.25-nightly.20260608.9", "0.0.25-nightly.20260608.10", "0.0.25-nightly.20260609.1");
        // A dated nightly without a run number sorts before that day's numbered runs (fewer identifiers).
        assertStrictlyAscending("0.0.25-nightly.20260608", "0.0.25-nightly.20260608.1");
    }

    @Test
    void numbersCompareNumericallyNotAsText() {
        assertStrictlyAscending("1.2.9", "1.2.10", "1.10.0", "9.0.0", "10.0.0");
        assertStrictlyAscending("1.0.0-2", "1.0.0-10", "1.0.0-a");
        // Identifiers that mix letters compare as ASCII text.
        assertStrictlyAscending("1.0.0-alpha10", "1.0.0-alpha9", "1.0.0-beta");
        assertStrictlyAscending("1.0.0-RC", "1.0.0-rc");
    }

    @Test
    void buildMetadataIsIgnoredForPrecedenceButKeptForEquality() {
        Version a = Version.parse("1.0.0+build.1"), b = Version.parse("1.0.0+build.2"), c = Version.parse("1.0.0");
        assertEquals(0, a.compareTo(b));
        assertEquals(0, a.compareTo(c));
        assertNotEquals(a, b);
        assertNotEquals(a, c);
        assertEquals(a, Version.parse("1.0.0+build.1"));
        assertEquals(a.hashCode(), Version.parse("1.0.0+build.1").hashCode());
        assertTrue(Version.parse("1.0.1+a").isNewerThan(Version.parse("1.0.0+z")));
        assertTrue(Version.parse("1.0.0-rc.1+z").isOlderThan(Version.parse("1.0.0")));
    }

    @Test
    void sortingShuffledMatchesTheDeclaredOrder() {
        List<String> ordered = List.of("0.0.1", "0.0.25-nightly.20260601", "0.0.25-nightly.20260608.9", "0.0.25-nightly.20260608.10",
                "0.0.25", "0.0.26-nightly.20260602", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0");
        List<Version> shuffled = new ArrayList<>(ordered.stream().map(Version::parse).toList());
        Collections.shuffle(shuffled, new Random(42));
        Collections.sort(shuffled);
        assertEquals(ordered, shuffled.stream().map(Version::toString).toList());
    }

    @Test
    void readsVersionOutput() {
        assertEquals(Version.parse("0.0.25-nightly.20260608.497"), Version.fromVersionOutput("t3 v0.0.25-nightly.20260608.497\n"));
        assertEquals(Version.parse("0.0.25"), Version.fromVersionOutput("0.0.25"));
        assertThrows(IllegalArgumentException.class, () -> Version.fromVersionOutput("t3 version unknown"));
        assertThrows(IllegalArgumentException.class, () -> Version.fromVersionOutput(null));
    }

    /** Every pair, both ways round: compareTo must be antisymmetric and agree with the listed order. */
    private static void assertStrictlyAscending(String... versions) {
        for (int i = 0; i < versions.length; i++) {
            for (int j = 0; j < versions.length; j++) {
                Version a = Version.parse(versions[i]), b = Version.parse(versions[j]);
                int expected = Integer.compare(i, j);
                assertEquals(expected, Integer.signum(a.compareTo(b)), versions[i] + " vs " + versions[j]);
            }
        }
    }
}
