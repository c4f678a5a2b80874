package io.vmscale.cli.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.UserConfig;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console with a fleet of 1,000 replicas on 50 hosts, in the real browser: a real broker carries
 * what a scaler, a monitor and a balancer of that size publish (each replica READY, one CPU sample per
 * replica per second, the balancer's figures with 1,000 servers each second) and the page must keep up.
 * It asserts what an operator needs at that size: every replica reachable in the table (by scrolling and by
 * the filter), the count by state, the chart summarising the fleet rather than drawing a line per replica,
 * and a page that stays responsive (it keeps answering the test's scripts). The timings it measures (from the
 * broker holding every READY to the page showing them all, each render's duration, the main thread's long
 * tasks) are written to {@code target/console-at-scale.txt} for BENCHMARKS.md, not asserted.
 */
class ConsoleAtScaleTest {
    private static final String PREFIX = "fleet";
    private static final int HOSTS = 50;
    /** The sizes measured: 1,000 in the suite; {@code -Dvmscale.console.sizes=10,100,300,1000} draws the curve. */
    private static final List<Integer> SIZES = java.util.Arrays.stream(
            System.getProperty("vmscale.console.sizes", "1000").split(",")).map(String::trim).map(Integer::parseInt).toList();
    private static final int STEADY_SECONDS = Integer.getInteger("vmscale.console.seconds", 8);

    @TempDir
    static Path dir;
    static EmbeddedBroker broker;
    static WebConsole console;
    static ChromeDriver browser;
    static WebDriverWait waiting;

    @BeforeAll
    static void start() throws IOException {
        BrokerConfig config = TestBrokers.config(dir.resolve("broker"), List.of(
                new UserConfig("comp", "comp-secret", "component"), new UserConfig("op", "op-secret", "operator")));
        broker = EmbeddedBroker.start(config);
        console = WebConsole.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new WebConsole.Settings(EmbeddedBroker.webSocketUrl(config), 75, 40, 180));
        browser = ConsoleTest.browser(dir);
        waiting = new WebDriverWait(browser, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (console != null) {
            console.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private Object js(String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }

    private static String domain(int i) {
        return String.format("%s-%04d", PREFIX, i);
    }

    private static String host(int i) {
        return String.format("qemu+ssh://host%02d/system", i % HOSTS);
    }

    @Test
    void aThousandReplicasOnFiftyHostsStayReadableAndTheChartSummarisesThem() throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("replicas  shown after publish ms  render p50 ms  render max ms  long tasks  long-task ms/s"
                + "  events/s  handling ms/s  max lag ms");
        for (int size : SIZES) {
            Map<String, Object> figures = measure(size);
            lines.add(String.format(Locale.ROOT, "%8d  %20d  %13.1f  %13.1f  %10d  %14.1f  %8.0f  %13.1f  %10d", size,
                    (long) figures.get("first"), (double) figures.get("p50"), (double) figures.get("max"),
                    (long) figures.get("longTasks"), (double) figures.get("longTaskMsPerSecond"),
                    (double) figures.get("eventsPerSecond"), (double) figures.get("handlingMsPerSecond"),
                    (long) figures.get("lagMs")));
            System.out.println(lines.get(lines.size() - 1));
        }
        Files.createDirectories(Paths.get("target"));
        Files.write(Paths.get("target", "console-at-scale.txt"), lines);
    }

    /** One fleet of {@code size} replicas, published, shown, looked at and then taken away again. */
    private Map<String, Object> measure(int size) throws Exception {
        browser.get(console.uri().toString());
        // the main thread's tasks over 50 ms, as Chromium reports them
        js("window.errors = []; window.addEventListener('error', (e) => window.errors.push(e.message + ' at ' + e.lineno));");
        js("window.longTasks = []; new PerformanceObserver((list) => list.getEntries().forEach((e) =>"
                + " window.longTasks.push(e.duration))).observe({type: 'longtask', buffered: false});");
        WebElement name = waiting.until(ExpectedConditions.visibilityOfElementLocated(By.id("user")));
        name.sendKeys("op");
        browser.findElement(By.id("password")).sendKeys("op-secret");
        browser.findElement(By.id("login-button")).click();
        waiting.until(d -> browser.findElement(By.id("session")).getText().contains("op @ ws://"));

        ScheduledExecutorService fleet = Executors.newSingleThreadScheduledExecutor();
        AtomicLong second = new AtomicLong();
        try (BrokerConnection scaler = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler"));
             BrokerConnection monitor = broker.connect(Role.COMPONENT, BrokerConnection.source("monitor"));
             BrokerConnection balancer = broker.connect(Role.COMPONENT, BrokerConnection.source("balancer"))) {
            for (int i = 0; i < size; i++) {
                scaler.publish(new VmLifecycle(domain(i), host(i), new Endpoint("127.0.0.1", 20000 + i),
                        ReplicaState.READY, "health check passed", false));
            }
            // from here the broker holds every READY (a lifecycle event's publish is confirmed): what follows is
            // the delivery to the page, its handling and the next render (the page renders once a second)
            long published = System.nanoTime();
            fleet.scheduleAtFixedRate(() -> {
                long s = second.incrementAndGet();
                Map<String, LbStats.ServerStats> servers = new LinkedHashMap<>();
                for (int i = 0; i < size; i++) {
                    // a fleet around the LOW..HIGH band, each replica on its own phase
                    monitor.publish(new CpuSample(host(i), domain(i), "RUNNING", 1, s * 1_000_000_000L,
                            55 + 20 * Math.sin(s / 8.0 + i), 1000));
                    servers.put("127.0.0.1:" + (20000 + i), new LbStats.ServerStats(s * 100, s * 100, 0, 0, 2, false, false));
                }
                balancer.publish(new LbStats(size * 100L, size * 100L, 0, 0, size * 100.0, 0.4, 0.8, 1.2, servers,
                        "custom", 1000, size, List.of(), 0));
            }, 0, 1, TimeUnit.SECONDS);

            waiting.withMessage(() -> "the page to count " + size + " READY replicas, it shows: " + text("replica-count"))
                    .until(d -> text("replica-count").contains(size + " replicas") && text("replica-count").contains(size + " READY"));
            waiting.withMessage(() -> "the chart drawn with the fleet's lines; the page's errors: " + js("return window.errors")).until(d -> Boolean.TRUE.equals(js(
                    "return !!cpuPlot && cpuPlot.series.length === " + (size > 12 ? 5 : size + 2))));
            long first = Duration.ofNanos(System.nanoTime() - published).toMillis();

            // the chart summarises a fleet: a line per replica would be 1,000 lines nobody can read
            @SuppressWarnings("unchecked")
            List<String> series = (List<String>) js("return cpuPlot.series.slice(1).map((s) => s.label)");
            if (size > 12) {
                assertThat(series).contains("mean CPU %", "max CPU %", "min CPU %", "replicas").hasSize(4);
            } else {
                assertThat(series).hasSize(size + 1).contains(domain(0), "replicas");
            }
            // every replica can be reached: scrolled to the end of the table, and by the filter
            String last = domain(size - 1);
            js("const box = document.getElementById('replicas-box'); box.scrollTop = box.scrollHeight;");
            waiting.withMessage("the last replica's row after scrolling").until(d -> !rows(last).isEmpty());
            WebElement filter = browser.findElement(By.id("replica-filter"));
            filter.sendKeys(domain(size / 2));
            waiting.withMessage("the filter's one row").until(d -> d.findElements(By.cssSelector("#replicas tbody tr[id]")).size() == 1
                    && !rows(domain(size / 2)).isEmpty());
            filter.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);

            // steady: the page keeps up with the fleet's events and renders every second
            js("window.longTasks = []; figures.renders.length = 0; figures.events = 0; figures.handlingMs = 0; figures.lagMs = 0;");
            long from = System.nanoTime();
            long until = from + TimeUnit.SECONDS.toNanos(STEADY_SECONDS);
            while (System.nanoTime() < until) {
                // the page answers scripts between its renders: it is not stuck
                assertThat(js("return replicas.size")).isEqualTo((long) size);
                Thread.sleep(500);
            }
            double seconds = (System.nanoTime() - from) / 1e9;
            Files.createDirectories(Paths.get("target"));
            Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), Paths.get("target", "console-" + size + ".png"),
                    StandardCopyOption.REPLACE_EXISTING);
            @SuppressWarnings("unchecked")
            List<Number> renders = (List<Number>) js("return figures.renders.slice().sort((a, b) => a - b)");
            @SuppressWarnings("unchecked")
            List<Number> longTasks = (List<Number>) js("return window.longTasks");
            assertThat(renders).as("renders during the steady span").hasSizeGreaterThan(STEADY_SECONDS / 2);
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("first", first);
            figures.put("p50", renders.get(renders.size() / 2).doubleValue());
            figures.put("max", renders.get(renders.size() - 1).doubleValue());
            figures.put("longTasks", (long) longTasks.size());
            figures.put("longTaskMsPerSecond", longTasks.stream().mapToDouble(Number::doubleValue).sum() / seconds);
            figures.put("eventsPerSecond", ((Number) js("return figures.events")).doubleValue() / seconds);
            figures.put("handlingMsPerSecond", ((Number) js("return figures.handlingMs")).doubleValue() / seconds);
            figures.put("lagMs", ((Number) js("return figures.lagMs")).longValue());

            fleet.shutdownNow();
            fleet.awaitTermination(5, TimeUnit.SECONDS);
            for (int i = 0; i < size; i++) {
                scaler.publish(new VmLifecycle(domain(i), host(i), null, ReplicaState.UNDEFINED, "scaled in", false));
            }
            waiting.withMessage("the table empty again").until(d -> text("replica-count").contains("0 replicas"));
            return figures;
        } finally {
            fleet.shutdownNow();
            browser.findElement(By.id("logout")).click();
        }
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private List<WebElement> rows(String domain) {
        return browser.findElements(By.id("replica-" + domain));
    }
}
