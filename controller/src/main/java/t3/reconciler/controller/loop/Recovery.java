package t3.reconciler.controller.loop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.Activation;
import t3.reconciler.controller.store.JournalEntry;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.store.StepInFlight;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;

/**
 * Runs before any new plan: a journal entry means the controller died inside a destructive step. Each step is
 * finished or undone so the planner sees a consistent machine: a restore in flight is redone (the archive keeps
 * whatever was there), a unit left stopped is started, a half-written prefix is removed, an activation whose
 * record was lost is recorded, the throwaway health-check server it journaled is killed and its scratch dir deleted. A crash inside a step but outside its
 * journaled part (after a backup, a switch, a restart) needs no repair, but is still recorded as a recovery event
 * naming the step, so the event log tells what happened.
 */
public final class Recovery {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Actuators io;
    private final StateStore store;
    private final Clock clock;
    private final Log log;

    public Recovery(Actuators io, StateStore store, Clock clock, Log log) {
        this.io = io;
        this.store = store;
        this.clock = clock;
        this.log = log;
    }

    /** @return what was recovered, if anything */
    public Optional<String> resolve(DesiredState spec) throws ActuatorException {
        Optional<JournalEntry> entry = store.journal();
        Optional<StepInFlight> step = store.stepInFlight();
        if (entry.isEmpty()) {
            if (step.isEmpty()) return Optional.empty();
            // Died inside a step but outside its journaled part: nothing half-done to undo, but the log must say so.
            String what = step.get().action() + " " + step.get().target();
            String done = "the controller stopped during " + what + " outside its journaled part; nothing to finish or undo, the next plan resumes from what is observed";
            store.stepEnded();
            store.event(clock.instant(), "recover", what, "ok", done);
            log.warn("recovered", Log.kv("step", what, "reason", done));
            return Optional.of(done);
        }
        JournalEntry j = entry.get();
        JsonNode d = detail(j);
        // A switch expression over the enum: a new journaled kind does not compile until it is recovered here.
        String done = switch (j.kind()) {
            case RESTORE -> redoRestore(spec, j, d);
            case RESTORE_DOWN -> redoRestoreDown(spec, d);
            case CANARY -> {
                String unit = d.path("unit").asText();
                boolean wasDown = !io.units().status(unit).active();
                if (wasDown) io.units().start(unit, spec.healthCheck().startTimeout());
                yield wasDown ? "started " + unit + ", left down by an interrupted restart" : unit + " is up; its pairing is verified next";
            }
            case INSTALL -> {
                Executor.deleteTree(io.releases().prefixOf(Version.parse(j.target())));
                yield "removed the half-installed prefix of " + j.target();
            }
            case HEALTH_CHECK -> HealthLeftovers.clean(d);
            case ACTIVATE, ROLLBACK_BINARY -> recordLostActivation(j);
        };
        store.journalClear();
        store.stepEnded();
        store.event(clock.instant(), "recover", j.kind().label() + " " + j.target(), "ok", done);
        log.warn("recovered", Log.kv("action", j.kind().label(), "target", j.target(), "since", j.startedAt(), "reason", done));
        return Optional.of(done);
    }

    /** A restore in flight is redone: the archive keeps whatever was there. */
    private String redoRestore(DesiredState spec, JournalEntry j, JsonNode d) throws ActuatorException {
        String unit = d.path("unit").asText();
        Path backup = Path.of(d.path("backup").asText());
        String done;
        if (io.units().status(unit).active()) io.units().stop(unit, spec.healthCheck().startTimeout());
        try {
            var report = io.backups().restore(j.target(), backup, spec.databaseOf(j.target()));
            store.rollout().ifPresent(r -> store.rolloutRestored(r.id(), j.target()));
            done = "redid the restore of " + j.target() + " from " + backup.getFileName() + " (replaced database archived at " + report.archive() + ")";
        } catch (ActuatorException e) {
            if (!e.refusesUserFiles()) throw e;
            store.quarantine(j.target(), "restore refused: " + e.getMessage(), clock.instant());
            done = "could not redo the restore of " + j.target() + ": their files were refused (" + e.getMessage() + "); quarantined";
        }
        if (d.path("start").asBoolean()) io.units().start(unit, spec.healthCheck().startTimeout());
        return done;
    }

    /**
     * A batch of restores in flight: every listed user not yet recorded as restored is restored again, side by side (the
     * archive keeps whatever was there), and every listed unit that should run is started. A user whose restore fails
     * for another reason than their files keeps the journal, so the next pass tries again; the others are recorded.
     */
    private String redoRestoreDown(DesiredState spec, JsonNode d) throws ActuatorException {
        Optional<Rollout> rollout = store.rollout();
        Set<String> restored = rollout.map(Rollout::restored).orElse(Set.of());
        List<Backups.RestoreRequest> redo = new ArrayList<>();
        Map<String, String> start = new LinkedHashMap<>();
        for (JsonNode u : d.path("users")) {
            String user = u.path("user").asText();
            String unit = u.path("unit").asText();
            if (u.path("start").asBoolean()) start.put(user, unit);
            if (restored.contains(user)) continue;
            // Down when the batch began; systemd may have brought it back on the migrated database since.
            if (io.units().status(unit).active()) io.units().stop(unit, spec.healthCheck().startTimeout());
            redo.add(new Backups.RestoreRequest(user, Path.of(u.path("backup").asText()), spec.databaseOf(user)));
        }
        List<String> done = new ArrayList<>();
        ActuatorException first = null;
        if (!redo.isEmpty()) {
            var outcomes = io.backups().restoreAll(redo, Math.min(Executor.RESTORE_DOWN_PARALLELISM, redo.size()));
            for (int i = 0; i < outcomes.size(); i++) {
                var o = outcomes.get(i);
                String user = redo.get(i).user();
                if (o.ok()) {
                    rollout.ifPresent(r -> store.rolloutRestored(r.id(), user));
                    done.add("redid the restore of " + user + " from " + redo.get(i).backup().getFileName() + " (replaced database archived at " + o.value().archive() + ")");
                } else if (o.error().refusesUserFiles()) {
                    store.quarantine(user, "restore refused: " + o.error().getMessage(), clock.instant());
                    done.add("could not redo the restore of " + user + ": their files were refused (" + o.error().getMessage() + "); quarantined");
                } else {
                    // Not started on the old build over a database that may still be migrated: retried with the journal.
                    start.remove(user);
                    if (first == null) first = o.error();
                }
            }
        }
        List<String> started = new ArrayList<>();
        for (String unit : start.values()) {
            if (io.units().status(unit).active()) continue;
            io.units().start(unit, spec.healthCheck().startTimeout());
            started.add(unit);
        }
        if (first != null) throw first;
        if (done.isEmpty()) done.add("every listed user was restored before the crash");
        return String.join("; ", done) + (started.isEmpty() ? "" : "; started " + String.join(", ", started));
    }

    /** An activation whose record was lost is recorded. */
    private String recordLostActivation(JournalEntry j) throws ActuatorException {
        Version v = Version.parse(j.target());
        List<Activation> acts = store.activations();
        boolean recorded = !acts.isEmpty() && acts.get(acts.size() - 1).version().equals(v);
        if (io.releases().active().equals(Optional.of(v)) && !recorded) {
            // The journal's start time is the earliest the link can have changed: units started after it run v.
            store.recordActivation(v, j.startedAt());
            return "recorded the switch to " + v + " that happened before the crash";
        }
        return "link is on " + io.releases().active().map(Version::toString).orElse("nothing") + "; nothing to finish";
    }

    private static JsonNode detail(JournalEntry j) {
        try {
            return JSON.readTree(j.detail() == null || j.detail().isBlank() ? "{}" : j.detail());
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }
}
