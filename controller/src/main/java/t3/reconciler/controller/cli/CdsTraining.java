package t3.reconciler.controller.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;

/**
 * The AppCDS training run of packaging/install.sh: {@code java -XX:ArchiveClassesAtExit=<jar>.jsa -cp <jar>
 * t3.reconciler.controller.cli.CdsTraining}. It loads, without initialising, every class of the controller and the
 * library and JDK classes in {@code cds-training.classes} (what a daemon start and its first pass load), and exits:
 * the JVM then writes them all to the archive. A real run would need a bus, a registry and users, and could act;
 * loading changes nothing. Classes made at run time (lambdas, proxies) are not in the archive this writes.
 */
public final class CdsTraining {
    private CdsTraining() {}

    public static void main(String[] args) throws IOException, URISyntaxException {
        ClassLoader loader = CdsTraining.class.getClassLoader();
        List<String> names = new ArrayList<>(ownClasses());
        try (InputStream in = CdsTraining.class.getResourceAsStream("cds-training.classes");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) names.add(line.strip().replace('/', '.'));
            }
        }
        int loaded = 0;
        for (String name : names) {
            try {
                Class.forName(name, false, loader);
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                // A class renamed or removed since the list was written, or one whose optional dependency is absent.
            }
        }
        System.out.println("loaded " + loaded + " of " + names.size() + " classes");
    }

    /** Every class of ours in the jar we run from (none when run from a classes directory). */
    private static List<String> ownClasses() throws IOException, URISyntaxException {
        Path where = Path.of(CdsTraining.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> names = new ArrayList<>();
        if (!where.toString().endsWith(".jar")) return names;
        try (JarFile jar = new JarFile(where.toFile())) {
            jar.stream().map(e -> e.getName())
                    .filter(n -> n.startsWith("t3/reconciler/") && n.endsWith(".class"))
                    .forEach(n -> names.add(n.substring(0, n.length() - ".class".length()).replace('/', '.')));
        }
        return names;
    }
}
