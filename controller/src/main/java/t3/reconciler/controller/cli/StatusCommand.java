package t3.reconciler.controller.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.loop.Observer;
import t3.reconciler.controller.store.Event;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Desired vs observed at a glance, like kubectl describe: spec, observed, conditions, last events.")
final class StatusCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--json", description = "machine-readable output")
    boolean json;

    @Option(names = "--no-registry", description = "do not ask the registry for the channel's version")
    boolean noRegistry;

    @Option(names = "--watch", description = "keep watching: redraw on every change in a terminal; one line per change otherwise (Ctrl-C to stop)")
    boolean watch;

    /** How often a watcher looks at the store's data version (a cheap read): the delay before a change shows. */
    static final Duration WATCH_POLL = Duration.ofMillis(500);

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        if (watch) {
            try (Wiring w = Wiring.open(s)) {
                StatusWatch view = new StatusWatch(System.out, System.console() != null);
                StoreWatch.follow(w.store, WATCH_POLL, () -> false, () -> {
                    ObservedState obs = new Observer(w.io, w.store, Clock.systemUTC()).observe(s, !noRegistry, false);
                    view.changed(() -> {
                        java.io.ByteArrayOutputStream screen = new java.io.ByteArrayOutputStream();
                        PrintStream p = new PrintStream(screen, true, java.nio.charset.StandardCharsets.UTF_8);
                        printSummary(s, obs, p);
                        p.println("Waiting:    " + waiting(w.store.lastDecision()));
                        p.println("Last reconcile: " + lastReconcile(w).orElse("never"));
                        return screen.toString(java.nio.charset.StandardCharsets.UTF_8);
                    }, StatusWatch.oneLine(obs, w.store.lastDecision()), Instant.now());
                });
            }
            return Main.OK;
        }
        try (Wiring w = Wiring.open(s)) {
            ObservedState obs = FleetRead.into(s, new Observer(w.io, w.store, Clock.systemUTC()).observe(s, !noRegistry, false));
            List<Event> events = w.store.events(Optional.empty(), 10);
            if (json) {
                ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                Map<String, Object> out = asJson(s, obs, events, lastReconcile(w));
                out.put("waiting", w.store.lastDecision().flatMap(t3.reconciler.controller.store.LastDecision::gate).map(t3.reconciler.controller.plan.Gate::label).orElse(null));
                out.put("restartNeeded", restartNeeded(w).orElse(List.of()));
                System.out.println(m.writeValueAsString(out));
                return Main.OK;
            }
            printSummary(s, obs, System.out);
            System.out.println("Waiting:    " + waiting(w.store.lastDecision()));
            System.out.println("Last reconcile: " + lastReconcile(w).orElse("never"));
            restartNeeded(w).ifPresent(keys -> System.out.println("Restart needed: " + String.join(", ", keys)
                    + " edited while the controller runs; the running controller keeps its started values until it restarts"));
            System.out.println("Events (last " + events.size() + "):");
            for (Event e : events) System.out.println("  " + e.at() + "  " + e.action() + " " + e.target() + " [" + e.outcome() + "] " + e.reason());
            return Main.OK;
        }
    }

    /** The gate that ended the last pass, and what lifts it when that is the operator's {@code promote}. */
    static String waiting(Optional<t3.reconciler.controller.store.LastDecision> d) {
        if (d.isEmpty() || d.get().gate().isEmpty()) return "no";
        var g = d.get().gate().get();
        return g.label() + (g == t3.reconciler.controller.plan.Gate.AWAITING_APPROVAL ? " ('t3-reconciler promote' goes on, 'abort' rolls back): " : ": ") + d.get().reason();
    }

    /** The last finished pass as people read it. */
    private static Optional<String> lastReconcile(Wiring w) {
        return w.store.lastReconcile().filter(l -> l.endedAt().isPresent()).map(t3.reconciler.controller.store.LastReconcile::text);
    }

    static void printSummary(DesiredState s, ObservedState obs, PrintStream out) {
        out.println("Spec:       " + s.source() + " — " + s.pin().map(v -> "pin " + v).orElse("track " + s.packageName() + "@" + s.track().tag())
                + (s.freeze() ? ", freeze: true" : "") + ", window " + s.schedule().window().map(Object::toString).orElse("always") + " " + s.schedule().zone());
        out.println("Installed:  " + str(obs.installed()) + "    last-good: " + str(obs.lastGood()) + "    candidate: "
                + obs.candidate().version().map(Version::toString).orElse(obs.candidate().error().map(e -> "unknown (" + e + ")").orElse("-")));
        out.println("Freeze:     " + freezeSources(s, obs));
        out.println("Breaker:    " + obs.breaker().status().name().toLowerCase().replace('_', '-')
                + obs.breaker().version().map(v -> " (" + v + ": " + obs.breaker().reason().orElse("") + ", since " + obs.breaker().openedAt().map(Instant::toString).orElse("?") + ")").orElse("")
                + (obs.blocked().isEmpty() ? "" : "; blocked: " + obs.blocked()));
        out.println("Rollout:    " + obs.rollout().map(r -> r.target() + " from " + str(r.from()) + (r.failed() ? " FAILED: " + r.failure().get() : "")
                + (r.healthy() ? ", healthy" : "") + ", restarted " + r.restarted() + ", verified " + r.verified() + (r.restored().isEmpty() ? "" : ", restored " + r.restored())
                + (obs.approved().isEmpty() ? "" : ", approved at " + obs.approved().stream().map(t3.reconciler.model.ApprovalStage::label).sorted().toList())).orElse("none"));
        for (var a : obs.approvalRequests()) out.println("Requested:  " + a.kind().label() + " " + a.version() + " by " + a.by() + " at " + a.at() + ": " + a.reason() + " (not acted on yet)");
        obs.rollbackRequest().ifPresent(r -> out.println("Rollback:   to " + r.target() + " requested by " + r.by() + " at " + r.at() + (r.force() ? " (--force)" : "") + ", in progress"));
        for (var q : obs.quarantined().values()) {
            out.println("Quarantine: " + q.user() + " since " + q.since() + ": " + q.reason()
                    + " (not backed up, restarted or restored until a backup of theirs succeeds: fix their files, then 'backup " + q.user() + "')");
        }
        fleetLine(s, obs).ifPresent(l -> out.println("Fleet:      " + l));
        out.println("Users:");
        out.printf("  %-12s %-9s %-30s %-6s %s%n", "USER", "UNIT", "RUNNING", "BUSY", "NEWEST BACKUP");
        for (UserState u : obs.users()) {
            out.printf("  %-12s %-9s %-30s %-6s %s%n", u.name(), u.activeState(), str(u.runningVersion()), u.busy() ? "busy" : "idle",
                    u.newestBackup().map(b -> describe(b, obs.now())).orElse(u.databaseExists() ? "none" : "no database"));
        }
    }

    /** The fleet as this host's observation saw it: etcd, slot, verdicts, freeze; empty without {@code fleet:}. */
    static Optional<String> fleetLine(DesiredState s, ObservedState obs) {
        if (s.fleet().isEmpty()) return Optional.empty();
        String group = "group " + s.fleet().get().group();
        if (obs.fleet().isEmpty()) return Optional.of(group + ", not observed (the fleet could not be opened: see the daemon's fleet-open log line)");
        FleetFacts f = obs.fleet().get();
        if (f.etcd() != EtcdHealth.QUORUM) return Optional.of(group + " as " + f.self() + ", etcd " + f.etcd().name().toLowerCase().replace('_', '-') + ": " + f.etcdDetail());
        return Optional.of(group + " as " + f.self() + ", etcd quorum; slot " + (f.selfHoldsSlot() ? "held" : "not held") + " ("
                + f.slotHolders().size() + "/" + f.maxConcurrentHosts() + " held" + (f.slotHolders().isEmpty() ? "" : " by " + f.slotHolders().stream().map(SlotHolder::host).toList()) + ")"
                + (f.leaseLost() ? "; LEASE LOST" : "")
                + "; blocked: " + (f.verdicts().isEmpty() ? "none" : f.verdicts().values().stream().map(v -> v.version() + " (" + v.host() + ": " + v.reason() + ")").sorted().toList())
                + "; freeze: " + f.freeze().map(z -> "by " + z.by() + " since " + z.at() + (z.reason().isBlank() ? "" : ": " + z.reason())).orElse("no"));
    }

    static Map<String, Object> fleetJson(FleetFacts f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", f.self());
        m.put("etcd", f.etcd().name());
        m.put("etcdDetail", f.etcdDetail());
        m.put("slotHeld", f.selfHoldsSlot());
        m.put("leaseLost", f.leaseLost());
        m.put("maxConcurrentHosts", f.maxConcurrentHosts());
        m.put("slotHolders", f.slotHolders().stream().map(h -> Map.of("host", h.host(), "since", h.since().toString())).toList());
        m.put("verdicts", f.verdicts().values().stream().sorted(java.util.Comparator.comparing(Verdict::version))
                .map(v -> Map.of("version", v.version(), "host", v.host(), "reason", v.reason(), "at", v.at().toString())).toList());
        m.put("freeze", f.freeze().map(z -> Map.of("by", z.by(), "reason", z.reason(), "at", z.at().toString())).orElse(null));
        return m;
    }

    static String freezeSources(DesiredState s, ObservedState obs) {
        List<String> src = new ArrayList<>();
        if (s.freeze()) src.add("spec (freeze: true)");
        obs.freezeFile().ifPresent(c -> src.add("file " + s.controller().freezeFile() + (c.isBlank() ? "" : " (" + c.strip().lines().findFirst().orElse("") + ")")));
        if (!obs.breaker().isClosed()) src.add("breaker");
        return src.isEmpty() ? "no" : String.join(", ", src);
    }

    private static String describe(BackupInfo b, Instant now) {
        Duration age = Duration.between(b.takenAt(), now);
        return b.version() + ", " + (age.toHours() > 0 ? age.toHours() + "h" : age.toMinutes() + "m") + " ago, " + b.bytes() / 1024 + " KiB" + (b.verified() ? "" : ", NOT VERIFIED");
    }

    private static String str(Optional<Version> v) { return v.map(Version::toString).orElse("-"); }

    /** The keys the running daemon recorded as edited but not applied ({@link Daemon#RESTART_NEEDED}). */
    private static Optional<List<String>> restartNeeded(Wiring w) {
        return w.store.get(Daemon.RESTART_NEEDED).filter(v -> !v.isBlank()).map(v -> List.of(v.split(",")));
    }

    private static Map<String, Object> asJson(DesiredState s, ObservedState obs, List<Event> events, Optional<String> last) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spec", Map.of("file", s.source().toString(), "pin", str(s.pin()), "track", s.track().tag(), "freeze", s.freeze()));
        m.put("installed", str(obs.installed()));
        m.put("lastGood", str(obs.lastGood()));
        m.put("candidate", str(obs.candidate().version()));
        obs.candidate().error().ifPresent(e -> m.put("candidateError", e));
        m.put("freeze", freezeSources(s, obs));
        m.put("breaker", Map.of("status", obs.breaker().status().name(), "version", str(obs.breaker().version()), "reason", obs.breaker().reason().orElse(""), "failures", obs.breaker().failures()));
        obs.rollbackRequest().ifPresent(r -> m.put("rollbackRequest", Map.of("target", r.target().toString(), "by", r.by(), "at", r.at().toString(), "force", r.force())));
        m.put("blocked", obs.blocked().stream().map(Version::toString).sorted().toList());
        List<Map<String, Object>> users = new ArrayList<>();
        for (UserState u : obs.users()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", u.name());
            x.put("unit", u.unit());
            x.put("activeState", u.activeState());
            x.put("mainPid", u.mainPid());
            x.put("running", str(u.runningVersion()));
            x.put("busy", u.busy());
            x.put("busyProcesses", u.busyProcesses());
            obs.quarantine(u.name()).ifPresent(q -> x.put("quarantine", Map.of("since", q.since().toString(), "reason", q.reason())));
            u.newestBackup().ifPresent(b -> x.put("newestBackup", Map.of("path", b.path().toString(), "version", b.version().toString(), "takenAt", b.takenAt().toString(), "bytes", b.bytes(), "verified", b.verified())));
            users.add(x);
        }
        m.put("users", users);
        if (s.fleet().isPresent()) {
            Map<String, Object> fleet = obs.fleet().map(StatusCommand::fleetJson).orElseGet(() -> {
                Map<String, Object> none = new LinkedHashMap<>();
                none.put("etcd", "NOT_OBSERVED");
                return none;
            });
            fleet.put("group", s.fleet().get().group());
            m.put("fleet", fleet);
        }
        m.put("lastReconcile", last.orElse(null));
        m.put("events", events.stream().map(e -> Map.of("at", e.at().toString(), "action", e.action(), "target", e.target(), "outcome", e.outcome(), "reason", e.reason())).toList());
        return m;
    }
}
