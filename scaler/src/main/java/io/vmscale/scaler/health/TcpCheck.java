package io.vmscale.scaler.health;

import io.vmscale.broker.event.Endpoint;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;

/** A TCP connection to the replica's port is accepted (then closed at once). */
final class TcpCheck implements HealthCheck {
    @Override
    public Result check(Endpoint target, Duration timeout) {
        long t0 = System.nanoTime();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(target.ip(), target.port()), (int) timeout.toMillis());
            return new Result(true, "connected", HealthCheck.since(t0), Instant.now());
        } catch (SocketTimeoutException e) {
            return new Result(false, "no connection in " + timeout.toMillis() + " ms", HealthCheck.since(t0),
                    Instant.now());
        } catch (ConnectException e) {
            return new Result(false, "connection refused", HealthCheck.since(t0), Instant.now());
        } catch (IOException | RuntimeException e) {
            return new Result(false, String.valueOf(e.getMessage()), HealthCheck.since(t0), Instant.now());
        }
    }
}
