package t3.reconciler.controller.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP exchange under one deadline, body included. {@link HttpRequest#timeout} stops only the wait for the
 * response headers: a server that sends headers and then trickles its body holds a plain {@code send} forever.
 * Here the body is read by a subscriber this class can cancel, which closes the connection, so the deadline is a
 * hard one and nothing stays open behind it; the body is also capped, so a huge answer cannot fill the heap.
 */
public final class WholeExchange {
    private WholeExchange() {}

    /** {@code request} (its own timeout is replaced by {@code deadline}); the body is cut after {@code maxBodyBytes}. */
    public static HttpResponse<String> send(HttpClient http, HttpRequest request, Duration deadline, int maxBodyBytes) throws IOException {
        long end = System.nanoTime() + deadline.toNanos();
        CappedBody body = new CappedBody(maxBodyBytes);
        HttpRequest timed = HttpRequest.newBuilder(request, (name, value) -> true).timeout(deadline).build();
        CompletableFuture<HttpResponse<String>> f = http.sendAsync(timed, info -> body);
        try {
            return f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            body.abort();
            f.cancel(true);
            throw new HttpTimeoutException(request.method() + " " + request.uri() + ": no complete answer (headers and body) within " + deadline);
        } catch (InterruptedException e) {
            body.abort();
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IOException(request.method() + " " + request.uri() + ": interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw io;
            throw new IOException(request.method() + " " + request.uri() + ": " + c, c);
        }
    }

    /** Collects the body as UTF-8 up to a cap; {@link #abort} cancels the subscription, which makes the client close the connection. */
    private static final class CappedBody implements HttpResponse.BodySubscriber<String> {
        private final int max;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private boolean aborted;

        CappedBody(int max) { this.max = max; }

        @Override
        public synchronized void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (aborted) s.cancel();
            else s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            Flow.Subscription s;
            synchronized (this) {
                if (result.isDone()) return;
                for (ByteBuffer b : items) {
                    int take = Math.min(b.remaining(), max - bytes.size());
                    byte[] chunk = new byte[take];
                    b.get(chunk);
                    bytes.write(chunk, 0, take);
                    if (b.hasRemaining()) {
                        // Enough to say what the server meant; the rest is not read, and the connection is not reused.
                        subscription.cancel();
                        result.complete(text() + "...");
                        return;
                    }
                }
                s = subscription;
            }
            s.request(1);
        }

        @Override
        public void onError(Throwable t) { result.completeExceptionally(t); }

        @Override
        public synchronized void onComplete() { result.complete(text()); }

        @Override
        public CompletionStage<String> getBody() { return result; }

        synchronized void abort() {
            aborted = true;
            if (subscription != null) subscription.cancel();
            result.completeExceptionally(new HttpTimeoutException("deadline passed while reading the body"));
        }

        private String text() { return bytes.toString(StandardCharsets.UTF_8); }
    }
}
