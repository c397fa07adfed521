package t3.reconciler.controller.testbed;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import t3.reconciler.controller.cli.Main;

/** The real CLI ({@link Main#run}) in-process, with its exit code and what it printed. */
public record CapturedCli(int code, String out, String err) {
    public static CapturedCli run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true));
            System.setErr(new PrintStream(e, true));
            return new CapturedCli(Main.run(args), o.toString(), e.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
