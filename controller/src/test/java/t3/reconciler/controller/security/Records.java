package t3.reconciler.controller.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What a {@code record-uid} stand-in build left in its record dir: who ran which part of it. */
record Records(Path dir) {
    record Run(String what, int uid, long pid) {}

    List<Run> runs() throws IOException {
        List<Run> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String[] p = f.getFileName().toString().split("\\.");
                out.add(new Run(p[0], Integer.parseInt(p[1]), Long.parseLong(p[2])));
            }
        }
        return out;
    }

    /** Part ({@code preinstall}, {@code version}, {@code serve}, {@code mint}, {@code linger}) to the uids it ran as. */
    Map<String, Set<Integer>> uids() throws IOException {
        Map<String, Set<Integer>> out = new TreeMap<>();
        for (Run r : runs()) out.computeIfAbsent(r.what(), k -> new TreeSet<>()).add(r.uid());
        return out;
    }

    void clear() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) Files.delete(f);
        }
    }
}
