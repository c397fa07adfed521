package t3.reconciler.controller.actuator.proc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trees another account wrote, handled by root: nothing outside the tree is deleted, re-owned or chmodded. */
class DescriptorTreesIT {
    @TempDir Path tmp;

    @Test
    void deleteRemovesLinksNotWhatTheyPointAt() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "x");
        Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
        Files.createSymbolicLink(tree.resolve("to-outside"), outside);
        Files.createSymbolicLink(tmp.resolve("tree/file-link"), outside.resolve("keep"));
        DescriptorTrees.delete(tmp.resolve("tree"));
        assertFalse(Files.exists(tmp.resolve("tree"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("x", Files.readString(outside.resolve("keep")));
    }

    @Test
    void deleteRefusesATreeThatIsALink() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "x");
        Files.createSymbolicLink(tmp.resolve("tree"), outside);
        IOException e = assertThrows(IOException.class, () -> DescriptorTrees.delete(tmp.resolve("tree")));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertEquals("x", Files.readString(outside.resolve("keep")));
    }

    @Test
    void reownRefusesAHardLinkToAFileElsewhere() throws Exception {
        Path victim = Files.writeString(tmp.resolve("victim"), "someone's");
        Files.setAttribute(victim, "unix:mode", 0666);
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.createLink(tree.resolve("innocent"), victim);
        IOException e = assertThrows(IOException.class, () -> DescriptorTrees.reownToRoot(tree));
        assertTrue(e.getMessage().contains("hard links"), e.getMessage());
        assertEquals(0666, (Integer) Files.getAttribute(victim, "unix:mode") & 07777, "the file elsewhere keeps its mode");
    }

    @Test
    void reownRefusesAFifo() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        assertEquals(0, new ProcessBuilder("mkfifo", tree.resolve("pipe").toString()).start().waitFor());
        IOException e = assertThrows(IOException.class, () -> DescriptorTrees.reownToRoot(tree));
        assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
    }

    @Test
    void reownDropsSetuidAndOthersWriteAndLeavesLinkTargetsAlone() throws Exception {
        Path outside = Files.writeString(tmp.resolve("outside"), "x");
        Files.setAttribute(outside, "unix:mode", 0666);
        Path tree = Files.createDirectories(tmp.resolve("tree/bin"));
        Path tool = Files.writeString(tree.resolve("tool"), "#!/bin/sh\n");
        Files.setAttribute(tool, "unix:mode", 06777);
        Files.createSymbolicLink(tree.resolve("link"), outside);
        DescriptorTrees.reownToRoot(tmp.resolve("tree"));
        assertEquals(0755, (Integer) Files.getAttribute(tool, "unix:mode") & 07777);
        assertEquals(0666, (Integer) Files.getAttribute(outside, "unix:mode") & 07777, "a link's target is not chmodded");
        assertArrayEquals("x".getBytes(), Files.readAllBytes(outside));
    }
}
