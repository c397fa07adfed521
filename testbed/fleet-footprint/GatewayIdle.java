import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/** Opens the gateway client as a controller would: lease kept alive, slot, status under the lease, watch; then idles. */
public class GatewayIdle {
    public static void main(String[] a) throws Exception {
        var spec = new DesiredState.Fleet(List.of(URI.create(a[0])), Optional.empty(), "m", Optional.of("x"), 1, List.of(), Duration.ofHours(1), Duration.ofSeconds(Long.parseLong(a.length > 1 ? a[1] : "10")));
        Fleet f = new Fleet(spec, "x", Clock.systemUTC(), new Log(System.err, Log.Format.JSON, Clock.systemUTC()));
        f.lock();
        f.records.publish(new HostStatus("x", Optional.empty(), Optional.empty(), Map.of(), "closed", "idle", Instant.now()));
        f.changes().onChange(() -> {});
        f.facts();
        System.out.println("ready");
        Thread.sleep(Long.MAX_VALUE);
    }
}
