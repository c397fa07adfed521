package t3.reconciler.controller.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;
import t3.reconciler.model.DesiredState;

/**
 * {@code fleet status} as people and scripts read it, from one {@link FleetFacts} (one etcd revision). Pure: the
 * facts, the section and the time in; text or a JSON tree out.
 */
final class FleetStatusView {
    private FleetStatusView() {}

    static void human(FleetFacts f, DesiredState.Fleet spec, Instant now, PrintStream out) {
        out.println("Group:      " + spec.group() + " (etcd " + String.join(", ", spec.endpoints().stream().map(Object::toString).toList()) + ")");
        if (f.etcd() != EtcdHealth.QUORUM) {
            out.println("etcd:       " + f.etcd() + ": " + f.etcdDetail());
            out.println("            nothing below is known: no host starts a rollout while its etcd has no quorum");
            return;
        }
        out.println("etcd:       QUORUM at revision " + f.revision());
        out.println("Freeze:     " + f.freeze().map(z -> "frozen by " + z.by() + " at " + at(z.at()) + ": " + z.reason()).orElse("no"));
        out.println("Slots:      " + f.slotHolders().size() + " of " + f.maxConcurrentHosts() + " held, " + f.slotsFree() + " free"
                + (f.slotHolders().isEmpty() ? "" : ": " + String.join(", ", holders(f).stream()
                        .map(h -> h.host() + " since " + at(h.since()) + " (" + age(h.since(), now) + ")").toList())));
        out.println("Hosts (" + f.hosts().size() + "):");
        // The phase is the host's own sentence (it may name a version and a gate): last, where its length does no harm.
        out.printf("  %-20s %-26s %-26s %-14s %-9s %-4s %s%n", "HOST", "INSTALLED", "LAST-GOOD", "BREAKER", "HEARTBEAT", "SLOT", "PHASE");
        for (HostStatus h : hosts(f)) {
            String name = h.host() + (spec.canaryHosts().contains(h.host()) ? " (canary)" : "") + (h.host().equals(f.self()) ? " *" : "");
            out.printf("  %-20s %-26s %-26s %-14s %-9s %-4s %s%n", name, h.installed().orElse("-"), h.lastGood().orElse("-"), h.breaker(),
                    age(h.heartbeat(), now), holds(f, h.host()) ? "yes" : "-", h.phase());
            if (!h.users().isEmpty()) {
                out.println("      users: " + String.join(", ", h.users().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()));
            }
        }
        List<String> silent = silentHolders(f);
        if (!silent.isEmpty()) out.println("  holding a slot with no status (dead until its lease ends, or not a controller): " + String.join(", ", silent));
        out.println("Blocked:    " + (f.verdicts().isEmpty() ? "none" : f.verdicts().size() + " version(s), for every host of the group"));
        for (Verdict v : verdicts(f)) out.println("  " + v.version() + " failed on " + v.host() + " at " + at(v.at()) + ": " + v.reason());
        out.println("Promoted:   " + (f.promotions().isEmpty() ? "none" : "by host, the first time (the soak of the others counts from the canary hosts')"));
        for (var v : new TreeMap<>(f.promotions()).entrySet()) {
            out.println("  " + v.getKey() + ": " + String.join(", ", new TreeMap<>(v.getValue()).entrySet().stream()
                    .map(e -> e.getKey() + (spec.canaryHosts().contains(e.getKey()) ? " (canary)" : "") + " at " + at(e.getValue())).toList()));
        }
    }

    static Map<String, Object> json(FleetFacts f, DesiredState.Fleet spec, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("group", spec.group());
        m.put("self", f.self());
        Map<String, Object> etcd = new LinkedHashMap<>();
        etcd.put("health", f.etcd().name());
        etcd.put("detail", f.etcdDetail());
        etcd.put("revision", f.revision());
        etcd.put("endpoints", spec.endpoints().stream().map(Object::toString).toList());
        m.put("etcd", etcd);
        if (f.etcd() != EtcdHealth.QUORUM) return m;
        m.put("maxConcurrentHosts", f.maxConcurrentHosts());
        m.put("slotsFree", f.slotsFree());
        m.put("slotHolders", holders(f).stream().map(h -> obj("host", h.host(), "since", h.since().toString(), "heldSeconds", seconds(h.since(), now))).toList());
        m.put("freeze", f.freeze().map(z -> obj("by", z.by(), "reason", z.reason(), "at", z.at().toString())).orElse(null));
        m.put("blocked", verdicts(f).stream().map(v -> obj("version", v.version(), "host", v.host(), "reason", v.reason(), "at", v.at().toString())).toList());
        List<Map<String, Object>> promotions = new ArrayList<>();
        new TreeMap<>(f.promotions()).forEach((v, byHost) -> new TreeMap<>(byHost).forEach((h, at) -> promotions.add(obj("version", v, "host", h, "at", at.toString()))));
        m.put("promotions", promotions);
        m.put("hosts", hosts(f).stream().map(h -> {
            Map<String, Object> x = obj("host", h.host(), "installed", h.installed().orElse(null), "lastGood", h.lastGood().orElse(null), "users", h.users(),
                    "breaker", h.breaker(), "phase", h.phase(), "heartbeat", h.heartbeat().toString(), "heartbeatAgeSeconds", seconds(h.heartbeat(), now));
            x.put("holdsSlot", holds(f, h.host()));
            x.put("canary", spec.canaryHosts().contains(h.host()));
            return x;
        }).toList());
        return m;
    }

    private static List<SlotHolder> holders(FleetFacts f) {
        return f.slotHolders().stream().sorted(Comparator.comparing(SlotHolder::since).thenComparing(SlotHolder::host)).toList();
    }

    private static List<HostStatus> hosts(FleetFacts f) {
        return f.hosts().values().stream().sorted(Comparator.comparing(HostStatus::host)).toList();
    }

    private static List<Verdict> verdicts(FleetFacts f) {
        return f.verdicts().values().stream().sorted(Comparator.comparing(Verdict::at).thenComparing(Verdict::version)).toList();
    }

    private static boolean holds(FleetFacts f, String host) { return f.slotHolders().stream().anyMatch(h -> h.host().equals(host)); }

    /** Slot holders that publish no status: a host that died (its lease has not run out yet) or a foreign writer. */
    private static List<String> silentHolders(FleetFacts f) {
        TreeSet<String> out = new TreeSet<>();
        for (SlotHolder h : f.slotHolders()) if (!f.hosts().containsKey(h.host())) out.add(h.host());
        return List.copyOf(out);
    }

    private static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static String at(Instant t) { return t.truncatedTo(ChronoUnit.SECONDS).toString(); }

    private static long seconds(Instant t, Instant now) { return Math.max(0, Duration.between(t, now).toSeconds()); }

    /** How long ago, coarsely: a clock a few seconds off on another host shows as "0s", never as negative. */
    static String age(Instant t, Instant now) {
        long s = seconds(t, now);
        if (s < 120) return s + "s ago";
        if (s < 7200) return s / 60 + "m ago";
        if (s < 172800) return s / 3600 + "h ago";
        return s / 86400 + "d ago";
    }
}
