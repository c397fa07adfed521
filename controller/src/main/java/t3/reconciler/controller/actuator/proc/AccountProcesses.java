package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every process of a dedicated account, ended. Candidate code (an install script, a trial server) can daemonize out of
 * the process tree we started; as long as any of it runs it can still write where root is about to read, re-own or
 * delete. The account runs nothing else, so all of its processes go.
 */
public final class AccountProcesses {
    private static final int ROUNDS = 20;
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration EXIT_WAIT = Duration.ofSeconds(2);

    private AccountProcesses() {}

    /**
     * {@code kill -KILL -1} run as the account: the kernel signals every process the account may signal (its own) in
     * one sweep that a fork cannot outrun, without root ever choosing pids. Repeated (bounded) until {@code /proc}
     * shows none left, for a process that was being created as the sweep ran.
     *
     * @throws IOException when some survive every round, naming them
     */
    public static void killAll(Account account) throws IOException {
        for (int round = 0; round < ROUNDS; round++) {
            if (of(account.uid()).isEmpty()) return;
            Exec.run(account.wrap(List.of("/usr/bin/kill", "-KILL", "-1")), KILL_TIMEOUT); // exits 1 when nothing was left
            for (long pid : of(account.uid())) ProcessHandle.of(pid).ifPresent(AccountProcesses::awaitExit);
        }
        List<Long> left = of(account.uid());
        if (!left.isEmpty()) throw new IOException("processes of account '" + account.name() + "' survive SIGKILL: " + left);
    }

    private static void awaitExit(ProcessHandle p) {
        try {
            p.onExit().get(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the next round signals it again
        }
    }

    /** Live (not zombie) pids whose real, effective or saved uid is {@code uid}. */
    public static List<Long> of(int uid) {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path p : procs) {
                try {
                    for (String line : Files.readAllLines(p.resolve("status"))) {
                        // A zombie runs nothing and holds nothing open: it only waits for its parent to reap it.
                        if (line.startsWith("State:") && (line.contains("Z (") || line.contains("X ("))) break;
                        if (!line.startsWith("Uid:")) continue;
                        String[] ids = line.substring(4).strip().split("\\s+");
                        for (int i = 0; i < 3 && i < ids.length; i++) {
                            if (Integer.parseInt(ids[i]) == uid) {
                                out.add(Long.parseLong(p.getFileName().toString()));
                                break;
                            }
                        }
                        break;
                    }
                } catch (IOException | RuntimeException e) {
                    // exited while we read
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list /proc", e);
        }
        return out;
    }
}
