import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;

/** Opens a jetcd client, grants a lease kept alive, puts a key under it, watches a prefix, then idles. */
public class JetcdIdle {
    public static void main(String[] a) throws Exception {
        Client c = Client.builder().endpoints(a[0]).build();
        long lease = c.getLeaseClient().grant(a.length > 1 ? Long.parseLong(a[1]) : 10).get().getID();
        c.getLeaseClient().keepAlive(lease, new StreamObserver<LeaseKeepAliveResponse>() {
            public void onNext(LeaseKeepAliveResponse r) {}
            public void onError(Throwable t) { t.printStackTrace(); }
            public void onCompleted() {}
        });
        ByteSequence k = ByteSequence.from("/m/status/x", StandardCharsets.UTF_8);
        c.getKVClient().put(k, ByteSequence.from("{}", StandardCharsets.UTF_8), PutOption.builder().withLeaseId(lease).build()).get();
        c.getWatchClient().watch(ByteSequence.from("/m/", StandardCharsets.UTF_8), WatchOption.builder().isPrefix(true).build(), r -> {});
        System.out.println("ready");
        Thread.sleep(Long.MAX_VALUE);
    }
}
