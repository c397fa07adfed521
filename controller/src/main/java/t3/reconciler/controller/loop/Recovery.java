package t3.reconciler.controller.loop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.Activation;
import t3.reconciler.controller.store.JournalEntry;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
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
        Optional<String> step = store.get(Executor.STEP_IN_FLIGHT).filter(s -> !s.isBlank());
        if (entry.isEmpty()) {
            if (step.isEmpty()) return Optional.empty();
            // Died inside a step but outside its journaled part: nothing half-done to undo, but the log must say so.
            String done = "the controller stopped during " + step.get() + " outside its journaled part; nothing to finish or undo, the next plan resumes from what is observed";
            store.put(Executor.STEP_IN_FLIGHT, "");
            store.event(clock.instant(), "recover", step.get(), "ok", done);
            log.warn("recovered", Log.kv("step", step.get(), "reason", done));
            return Optional.of(done);
        }
        JournalEntry j = entry.get();
        JsonNode d = detail(j);
        String done;
        switch (j.action()) {
            case "restore" -> {
                String unit = d.path("unit").asText();
                Path backup = Path.of(d.path("backup").asText());
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
            }
            case "canary" -> {
                String unit = d.path("unit").asText();
                boolean wasDown = !io.units().status(unit).active();
                if (wasDown) io.units().start(unit, spec.healthCheck().startTimeout());
                done = wasDown ? "started " + unit + ", left down by an interrupted restart" : unit + " is up; its pairing is verified next";
            }
            case "install" -> {
                Executor.deleteTree(io.releases().prefixOf(Version.parse(j.target())));
                done = "removed the half-installed prefix of " + j.target();
            }
            case "health-check" -> done = HealthLeftovers.clean(d);
            case "activate", "rollback-binary" -> {
                Version v = Version.parse(j.target());
                List<Activation> acts = store.activations();
                boolean recorded = !acts.isEmpty() && acts.get(acts.size() - 1).version().equals(v);
                if (io.releases().active().equals(Optional.of(v)) && !recorded) {
                    // The journal's start time is the earliest the link can have changed: units started after it run v.
                    store.recordActivation(v, j.startedAt());
                    done = "recorded the switch to " + v + " that happened before the crash";
                } else {
                    done = "link is on " + io.releases().active().map(Version::toString).orElse("nothing") + "; nothing to finish";
                }
            }
            default -> done = "nothing to finish for " + j.action();
        }
        store.journalClear();
        store.put(Executor.STEP_IN_FLIGHT, "");
        store.event(clock.instant(), "recover", j.action() + " " + j.target(), "ok", done);
        log.warn("recovered", Log.kv("action", j.action(), "target", j.target(), "since", j.startedAt(), "reason", done));
        return Optional.of(done);
    }

    private static JsonNode detail(JournalEntry j) {
        try {
            return JSON.readTree(j.detail() == null || j.detail().isBlank() ? "{}" : j.detail());
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }
}
