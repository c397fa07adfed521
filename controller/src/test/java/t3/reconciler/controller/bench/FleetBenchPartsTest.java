package t3.reconciler.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure parts of ./bench fleet: what it reads from etcd's /metrics and how it replays slot history. */
class FleetBenchPartsTest {
    @Test
    void sumsEverySeriesOfOneMetricAndNoLongerNamedOne() {
        String text = """
                # HELP grpc_server_handled_total Total number of RPCs completed on the server.
                grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 12
                grpc_server_handled_total{grpc_code="OK",grpc_method="Txn"} 3
                grpc_server_handled_total_extra 100
                etcd_debugging_mvcc_put_total 7
                """;
        assertEquals(15, EtcdMetrics.sum(text, "grpc_server_handled_total"));
        assertEquals(7, EtcdMetrics.sum(text, "etcd_debugging_mvcc_put_total"));
        assertEquals(0, EtcdMetrics.sum(text, "etcd_debugging_mvcc_delete_total"));
    }

    @Test
    void peakIsTheMostKeysPresentAtOnceInRevisionOrder() {
        var c = List.of(new EtcdHistory.Change(2, "s/a", true), new EtcdHistory.Change(3, "s/b", true), new EtcdHistory.Change(4, "s/a", false),
                new EtcdHistory.Change(5, "s/c", true), new EtcdHistory.Change(6, "s/c", true), new EtcdHistory.Change(7, "s/d", true));
        assertEquals(3, EtcdHistory.peak(c, Set.of()), "b, c, d at revision 7; a rewrite of c is not a new holder");
        assertEquals(4, EtcdHistory.peak(c, Set.of("s/x")));
    }
}
