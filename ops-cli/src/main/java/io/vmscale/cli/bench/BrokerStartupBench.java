package io.vmscale.cli.bench;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.cli.common.Local;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;

/**
 * Start-up time of our broker (security, persistent journal, TCP and in-VM acceptors) against a
 * bare embedded Artemis (no security, no persistence, in-VM only) started in the same process.
 */
final class BrokerStartupBench {
    private BrokerStartupBench() {
    }

    static void run(PrintWriter out, int runs) throws Exception {
        Path root = Files.createTempDirectory("vmscale-bench-broker");
        try {
            long cold = timeOurs(root.resolve("cold"));
            List<Long> bare = new ArrayList<>();
            List<Long> fresh = new ArrayList<>();
            List<Long> restart = new ArrayList<>();
            Path reused = root.resolve("reused");
            timeOurs(reused);
            timeBare(); // warm the bare path's classes too
            for (int i = 0; i < runs; i++) {
                bare.add(timeBare());
                fresh.add(timeOurs(root.resolve("fresh-" + i)));
                restart.add(timeOurs(reused));
            }
            out.printf("bench broker: %d cores, Java %s; median of %d starts each, alternating%n",
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), runs);
            out.printf("%-62s %8s%n", "broker", "ms");
            out.printf("%-62s %8d%n", "vmscale, first start in a new JVM (classes loaded, journal created)",
                    cold / 1_000_000);
            out.printf("%-62s %8d%n", "bare embedded Artemis (no security, no journal, in-VM only)",
                    median(bare) / 1_000_000);
            out.printf("%-62s %8d%n", "vmscale, new data directory", median(fresh) / 1_000_000);
            out.printf("%-62s %8d%n", "vmscale, restart on an existing journal", median(restart) / 1_000_000);
            out.printf("ratio vmscale restart / bare: %.2f%n", (double) median(restart) / median(bare));
            out.flush();
        } finally {
            Local.deleteTree(root);
        }
    }

    private static long timeOurs(Path dataDir) throws IOException {
        BrokerConfig config = new BrokerConfig("127.0.0.1", Local.freeTcpPort(), dataDir.toString(), List.of());
        long t0 = System.nanoTime();
        EmbeddedBroker broker = EmbeddedBroker.start(config);
        long elapsed = System.nanoTime() - t0;
        broker.close();
        return elapsed;
    }

    private static long timeBare() throws Exception {
        EmbeddedActiveMQ server = new EmbeddedActiveMQ();
        server.setConfiguration(new ConfigurationImpl().setPersistenceEnabled(false).setSecurityEnabled(false)
                .setJMXManagementEnabled(false).addAcceptorConfiguration("in-vm", "vm://99"));
        long t0 = System.nanoTime();
        server.start();
        long elapsed = System.nanoTime() - t0;
        server.stop();
        return elapsed;
    }


    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
