package t3.reconciler.controller.cli;

import java.time.Clock;
import java.time.Instant;
import t3.reconciler.controller.actuator.fleet.EtcdException;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.actuator.fleet.HostId;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

/**
 * The group's etcd as the {@code fleet} commands reach it: straight from the desired state's {@code fleet:} section,
 * not through the local daemon (a fleet request is the group's, and must work while this host's daemon is down).
 * The CLI never takes a lease: it holds no slot and publishes no status.
 */
final class FleetAccess {
    private FleetAccess() {}

    static DesiredState.Fleet section(DesiredState s) {
        return s.fleet().orElseThrow(() -> new CliException(Main.USAGE,
                s.source() + ": no fleet: section, so this host is in no fleet (add one: docs/configuration.md, fleet)"));
    }

    static Fleet open(DesiredState s) {
        DesiredState.Fleet f = section(s);
        Clock clock = Clock.systemUTC();
        String self;
        try {
            self = HostId.of(f);
        } catch (EtcdException e) {
            // This host's id only marks it in 'fleet status': an operator may act on the fleet from a host without one.
            self = "";
        }
        try {
            return new Fleet(f, self, clock, Log.toStderr(clock));
        } catch (EtcdException e) {
            throw new CliException(Main.USAGE, s.source() + ": fleet: " + e.getMessage());
        }
    }

    /** One request to the group's etcd. */
    interface Request<T> {
        T on(Fleet fleet) throws EtcdException;
    }

    /** Opens the fleet, makes {@code request}, closes it; an etcd that does not take it is an unreachable dependency: exit 1. */
    static <T> T request(DesiredState s, Request<T> request) {
        try (Fleet fleet = open(s)) {
            try {
                return request.on(fleet);
            } catch (EtcdException e) {
                throw new CliException(Main.FAILED, "etcd (" + fleet.etcd.endpoints() + ") did not take the request: " + e.getMessage());
            }
        }
    }

    /**
     * The fleet request in this host's event log, with who and why: etcd keeps no history once a key is deleted. Called
     * after etcd took the request, so a store that cannot be written (a host with no controller state) is a warning, not
     * a failure: the group already acts on it.
     */
    static void record(DesiredState s, String action, String target, String outcome, String reason) {
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            store.event(Instant.now(), action, target, outcome, Args.who() + ": " + reason);
        } catch (RuntimeException e) {
            System.err.println("t3-reconciler: done, but not recorded in " + s.controller().stateDb() + ": " + e.getMessage());
        }
    }
}
