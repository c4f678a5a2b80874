package io.vmscale.cli.chart;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.common.OpsLogin;
import io.vmscale.cli.config.VmscaleConfig;
import java.awt.GraphicsEnvironment;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.swing.JFrame;
import javax.swing.SwingUtilities;
import javax.swing.Timer;
import javax.swing.WindowConstants;
import org.jfree.chart.ChartPanel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code vmscale ops chart}: the live chart window, or a PNG of it. */
@Command(name = "chart", mixinStandardHelpOptions = true,
        description = "Chart CPU %% per VM over a sliding window with the HIGH and LOW thresholds, the replica count, "
                + "decisions and failures with their reason, and the balancer's throughput and p99. Opens a window; "
                + "with --png, draws a PNG without a display (from --log, or after --seconds of live events).")
public final class ChartCommand implements Callable<Integer> {
    @ParentCommand
    OpsLogin ops;
    @Option(names = "--png", paramLabel = "FILE", description = "write the chart to this PNG instead of opening a window")
    Path png;
    @Option(names = "--log", paramLabel = "FILE", description = "chart a recorded event log (no broker needed)")
    Path log;
    @Option(names = "--replay", description = "chart the replay topics (vmscale.replay.*) instead of the live ones")
    boolean replay;
    @Option(names = "--window", paramLabel = "SECONDS", defaultValue = "180",
            description = "sliding window of the live chart (default: ${DEFAULT-VALUE}); a log is drawn whole")
    int windowSeconds;
    @Option(names = "--seconds", paramLabel = "N", description = "live with --png: collect N seconds of events, then draw "
            + "(default: the window)")
    Integer seconds;
    @Option(names = "--size", paramLabel = "WxH", defaultValue = "1400x900", description = "PNG size (default: ${DEFAULT-VALUE})")
    String size;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (windowSeconds < 10 || windowSeconds > 86_400) {
            throw new IllegalArgumentException("--window must be from 10 to 86400 seconds, got " + windowSeconds);
        }
        int[] wh = size(size);
        VmscaleConfig all = ops.config();
        VmscaleConfig c = ops.group().isEmpty() ? all.all().get(0) : all.group(ops.group()).orElseThrow(() ->
                new IllegalArgumentException("no group " + ops.group() + " in the configuration: the groups are "
                        + String.join(", ", all.all().stream().map(VmscaleConfig::name).toList()) + " (ops groups)"));
        boolean first = c.name().equals(all.name());
        String title = all.groups().isEmpty() ? "vmscale" : "vmscale: group " + c.name();
        double high = c.scaler().thresholdWindow().high();
        double low = c.scaler().thresholdWindow().low();
        PrintWriter out = spec.commandLine().getOut();
        if (log != null) {
            if (png == null) {
                throw new IllegalArgumentException("--log draws a PNG: add --png FILE (or replay the log and chart --replay)");
            }
            ChartModel model = new ChartModel(null, high, low).of(c.name(), first);
            EventLog.read(log).events().forEach(model::accept);
            render(model, title + ": " + log.getFileName(), png, wh);
            out.println("chart: " + png.toAbsolutePath());
            out.flush();
            return 0;
        }
        if (png == null && GraphicsEnvironment.isHeadless()) {
            throw new IllegalArgumentException("no display here (DISPLAY is not set): use --png FILE to draw a PNG");
        }
        ChartModel model = new ChartModel(Duration.ofSeconds(windowSeconds), high, low).of(c.name(), first);
        try (BrokerConnection connection = ops.connect(Role.VIEWER);
             Subscription ignored = connection.subscribeAll((replay ? Topic.REPLAY_PREFIX : Topic.PREFIX) + "*",
                     model::accept)) {
            if (png != null) {
                int wait = seconds != null ? seconds : windowSeconds;
                out.printf("chart: collecting %d s of %s events%n", wait, replay ? "replayed" : "live");
                out.flush();
                new CountDownLatch(1).await(wait, TimeUnit.SECONDS); // the collection period itself, not a synchronisation
                render(model, title, png, wh);
                out.println("chart: " + png.toAbsolutePath());
                out.flush();
                return 0;
            }
            CountDownLatch closed = new CountDownLatch(1);
            SwingUtilities.invokeAndWait(() -> window(model, replay ? title + " (replay)" : title, closed));
            closed.await();
        }
        return 0;
    }

    /** Every event of a log, drawn whole. */
    public static ChartModel fromLog(Path file, double high, double low) {
        ChartModel model = new ChartModel(null, high, low);
        EventLog.read(file).events().forEach(model::accept);
        return model;
    }

    public static void render(ChartModel model, String title, Path file, int[] wh) throws java.io.IOException {
        ChartRenderer renderer = new ChartRenderer(title);
        renderer.show(model.snapshot());
        renderer.writePng(file.toFile(), wh[0], wh[1]);
    }

    public static void window(ChartModel model, String title, CountDownLatch closed) {
        ChartRenderer renderer = new ChartRenderer(title);
        renderer.show(model.snapshot());
        JFrame frame = new JFrame(title);
        frame.setDefaultCloseOperation(WindowConstants.DISPOSE_ON_CLOSE);
        frame.setContentPane(new ChartPanel(renderer.chart()));
        frame.setSize(1400, 900);
        Timer timer = new Timer(1000, e -> renderer.show(model.snapshot()));
        timer.start();
        frame.addWindowListener(new java.awt.event.WindowAdapter() {
            @Override
            public void windowClosed(java.awt.event.WindowEvent e) {
                timer.stop();
                closed.countDown();
            }
        });
        frame.setVisible(true);
    }

    private static int[] size(String text) {
        String[] parts = text.toLowerCase(java.util.Locale.ROOT).split("x");
        try {
            int w = Integer.parseInt(parts[0]);
            int h = Integer.parseInt(parts[1]);
            if (parts.length == 2 && w >= 200 && h >= 150 && w <= 8000 && h <= 8000) {
                return new int[] {w, h};
            }
        } catch (RuntimeException e) {
            // below
        }
        throw new IllegalArgumentException("--size must be WIDTHxHEIGHT from 200x150 to 8000x8000, got '" + text + "'");
    }
}
