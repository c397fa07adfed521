package t3.reconciler.controller.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.DesiredState;

@Command(name = "status", mixinStandardHelpOptions = true, description = {
        "Every host of the group at one etcd revision: versions, phases, slot holders, blocked versions, freeze, heartbeats.",
        "Exit 1 when etcd has no quorum or cannot be reached (it says why)."})
final class FleetStatusCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--json", description = "machine-readable output")
    boolean json;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        FleetFacts facts;
        try (Fleet fleet = FleetAccess.open(s)) {
            facts = fleet.facts();
        }
        Instant now = Instant.now();
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(FleetStatusView.json(facts, s.fleet().get(), now)));
        } else {
            FleetStatusView.human(facts, s.fleet().get(), now, System.out);
        }
        // As for the registry or D-Bus: a dependency that cannot be asked is a failure, whatever was printed.
        return facts.etcd() == EtcdHealth.QUORUM ? Main.OK : Main.FAILED;
    }
}
