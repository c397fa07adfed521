package t3.reconciler.controller.cli;

import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import t3.reconciler.controller.store.LastDecision;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * {@code status --watch}'s output: in a terminal the whole status redrawn in place; piped, one line per change (a
 * log a script or {@code tee} can keep), nothing when a re-read changed nothing the line shows.
 */
final class StatusWatch {
    /** Home and clear: the ANSI sequence every terminal emulator takes. */
    private static final String CLEAR = "\033[H\033[2J";

    private final PrintStream out;
    private final boolean terminal;
    private String lastLine;

    StatusWatch(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    void changed(Supplier<String> screen, String line, Instant at) {
        if (terminal) {
            out.print(CLEAR + screen.get());
        } else if (!line.equals(lastLine)) {
            out.println(at + "  " + line);
        }
        lastLine = line;
        out.flush();
    }

    /** What a change is measured by: versions, the rollout's progress, the gate, and which version each user runs. */
    static String oneLine(ObservedState obs, Optional<LastDecision> last) {
        StringBuilder b = new StringBuilder("installed=" + str(obs.installed()) + " last-good=" + str(obs.lastGood()) + " candidate=" + str(obs.candidate().version()));
        obs.rollout().ifPresent(r -> b.append(" rollout=").append(r.target()).append(r.failed() ? ":failed" : r.healthy() ? ":healthy" : "")
                .append(" verified=").append(r.verified().size()).append(r.restored().isEmpty() ? "" : " restored=" + r.restored().size()));
        if (!obs.breaker().isClosed()) b.append(" breaker=").append(obs.breaker().status().name().toLowerCase().replace('_', '-'));
        b.append(" gate=").append(last.flatMap(LastDecision::gate).map(g -> g.label()).orElse("-"));
        List<String> users = obs.users().stream().map(u -> u.name() + ":" + running(u)).toList();
        b.append(" users=").append(String.join(",", users));
        return b.toString();
    }

    private static String running(UserState u) { return u.runningVersion().map(Version::toString).orElse(u.activeState()); }

    private static String str(Optional<Version> v) { return v.map(Version::toString).orElse("-"); }
}
