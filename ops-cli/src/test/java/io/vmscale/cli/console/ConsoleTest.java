package io.vmscale.cli.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.cli.TestStack;
import io.vmscale.libvirt.HostConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
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
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real headless browser (Debian's chromium through its chromedriver, nothing
 * downloaded), against the test-driver stack: a real broker speaking STOMP over WebSocket, the real
 * balancer, the scaler working domains of libvirt's test driver that point at real guest servers on
 * loopback. The page logs in, sees a replica appear, scales to 2 and sees the second replica and the
 * decision, sees an alert when a replica is destroyed; a viewer is refused, a wrong password is told.
 * Leaves {@code target/console.png}.
 */
class ConsoleTest {
    private static final String PREFIX = "consoletest";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path dir;
    static TestStack stack;
    static WebConsole console;
    static ChromeDriver browser;
    static WebDriverWait waiting;

    @BeforeAll
    static void start() throws IOException {
        stack = new TestStack(dir, PREFIX, 3, """
                {"minReplicas": 1, "maxReplicas": 3, "tickMs": 200, "cooldownSeconds": 0,
                 "probeTimeoutSeconds": 10, "drainTimeoutSeconds": 5}""");
        console = WebConsole.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                WebConsole.Settings.of(stack.loaded));
        browser = browser(dir);
        waiting = new WebDriverWait(browser, WAIT);
    }

    /** Debian's chromium and chromedriver, named explicitly: Selenium then downloads nothing. */
    static ChromeDriver browser(Path dir) {
        Path chromium = Paths.get("/usr/bin/chromium");
        Path driver = Paths.get("/usr/bin/chromedriver");
        assertThat(Files.isExecutable(chromium) && Files.isExecutable(driver))
                .as("chromium and chromium-driver installed (scripts/prerequisites installs them)").isTrue();
        ChromeOptions options = new ChromeOptions().setBinary(chromium.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                        "--window-size=1500,1100", "--user-data-dir=" + dir.resolve("chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (console != null) {
            console.close();
        }
        stack.close();
    }

    private void logIn(String user, String password) {
        browser.get(console.uri().toString());
        WebElement name = waiting.until(ExpectedConditions.visibilityOfElementLocated(By.id("user")));
        name.sendKeys(user);
        browser.findElement(By.id("password")).sendKeys(password);
        browser.findElement(By.id("login-button")).click();
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private void waitForText(String id, String... parts) {
        waiting.withMessage(() -> "#" + id + " to show " + List.of(parts) + ", it shows: " + text(id))
                .until(d -> List.of(parts).stream().allMatch(text(id)::contains));
    }

    private String rowState(String domain) {
        List<WebElement> cells = browser.findElements(By.cssSelector("#replica-" + domain + " td.state"));
        return cells.isEmpty() ? "" : cells.get(0).getText();
    }

    private void click(String command, String args) {
        browser.findElement(By.cssSelector("#controls button[data-command='" + command + "']"
                + (args == null ? "" : "[data-args='" + args + "']"))).click();
    }

    @Test
    void anOperatorSeesTheGroupLiveScalesItAndIsAlerted() throws Exception {
        logIn("op", "op-secret");
        waitForText("session", "op @ ws://127.0.0.1:");
        stack.startScaler();
        String first = PREFIX + "-0000";
        waiting.withMessage("the first replica READY in the table").until(d -> rowState(first).equals("READY"));
        // the balancer measures it (kept saturated): the chart shades that stretch, as the PNG's ChartModel does
        waiting.withMessage("the balancer's calibration shaded on the chart").until(d -> ((Number) ((JavascriptExecutor) d)
                .executeScript("return chart.spans().filter(s => s.label.startsWith('calibrating 127.0.0.1:')"
                        + " && s.to >= s.from).length")).intValue() > 0);

        // what the monitor would publish: the test driver's domains burn no CPU
        ScheduledExecutorService monitor = Executors.newSingleThreadScheduledExecutor();
        AtomicLong tick = new AtomicLong();
        try (BrokerConnection samples = stack.broker.connect(Role.COMPONENT, BrokerConnection.source("monitor"))) {
            monitor.scheduleAtFixedRate(() -> stack.readyDomains().forEach(domain -> samples.publish(new CpuSample(
                    TestStack.URI, domain, "RUNNING", 1, 0, 55 + 15 * Math.sin(tick.incrementAndGet() / 6.0
                    + domain.hashCode()), 250))), 0, 250, TimeUnit.MILLISECONDS);

            click("load", "low");
            waitForText("controls", "load low: balancer@", "load low");
            browser.findElement(By.id("scale-n")).clear();
            browser.findElement(By.id("scale-n")).sendKeys("2");
            browser.findElement(By.id("scale")).click();
            waitForText("controls", "scale 2: scaler@", "scaling to 2");
            String second = PREFIX + "-0001";
            waiting.withMessage("the second replica READY in the table").until(d -> rowState(second).equals("READY"));
            waitForText("decisions", "UP 1\u21922");
            assertThat(browser.findElement(By.cssSelector("#replica-" + second + " td.endpoint")).getText())
                    .startsWith("127.0.0.1:");
            assertThat(stack.ready()).isEqualTo(2);
            waitForText("lb-figures", "load low", "answers/s");

            try (HostConnection host = HostConnection.open(TestStack.URI)) {
                host.domains().destroy(second);
            }
            waitForText("alerts", second + " FAILED", "REPLACE ReplicaFailed");
            waitForText("toasts", "REPLACE");
            waiting.withMessage("a replacement READY").until(d -> stack.ready() == 2);
            waitForText("decisions", "REPLACE");
            waiting.withMessage("two READY rows again").until(d ->
                    d.findElements(By.cssSelector("#replicas tr.state-READY")).size() == 2);
            // an image for a group of the built-in guest: refused beside the control, with the scaler's reason
            browser.findElement(By.id("image-name")).sendKeys("images/v2.qcow2");
            browser.findElement(By.id("image")).click();
            waitForText("controls", "image images/v2.qcow2: scaler@", "error: this group runs the built-in guest");
            assertThat(browser.findElement(By.cssSelector("output[data-for='image rollout']")).getAttribute("class"))
                    .isEqualTo("refused");
            // a replica protected from scale-in, from the page
            browser.findElement(By.id("protect-domain")).sendKeys(first);
            browser.findElement(By.cssSelector("#controls button[data-command='protect'][data-then='on']")).click();
            waitForText("controls", "protect " + first + " on: scaler@", first + " is protected from scale-in");
            browser.findElement(By.cssSelector("#controls button[data-command='protect'][data-then='off']")).click();
            waitForText("controls", "protect " + first + " off: scaler@", first + " may be scaled in again");
            Path png = Paths.get("target", "console.png");
            Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), png, StandardCopyOption.REPLACE_EXISTING);
            assertThat(Files.size(png)).isGreaterThan(10_000);
            click("load", "off");
            waitForText("controls", "load off");
        } finally {
            monitor.shutdownNow();
        }
        assertThat(stack.scaler.replicas()).containsValue(ReplicaState.READY);
    }

    @Test
    void aViewerSeesButItsCommandsAreRefused() {
        logIn("view", "view-secret");
        waitForText("session", "view @ ws://127.0.0.1:", "(read only)");
        // the refused status ends the first connection (STOMP's rule after an error); a command sent while the
        // console reconnects is answered "not sent ... try again" (or "lost") at once: the user clicks again
        String refused = "pause: refused by the broker: user 'view' may not send commands to vmscale.admin";
        waiting.withMessage(() -> "the broker's refusal of pause, it shows: " + text("controls")).until(d -> {
            if (!text("controls").contains(refused) && !text("controls").contains("pause: sent ...")) {
                click("pause", null);
            }
            return text("controls").contains(refused);
        });
        // logged in again after the broker ended the connection (STOMP's rule after an error): still reading
        waiting.withMessage("connected again").until(d ->
                Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript("return client.connected")));
        waitForText("session", "view @ ws://127.0.0.1:", "(read only)");
        assertThat(browser.findElement(By.id("console")).isDisplayed()).isTrue();
    }

    @Test
    void aWrongPasswordIsToldNotABlankPage() {
        logIn("op", "not-the-password");
        waitForText("login-error", "login refused: wrong user name or password for 'op'");
        assertThat(browser.findElement(By.id("console")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.id("login")).isDisplayed()).isTrue();
    }

    @Test
    void thePageAndItsLibrariesComeFromThisServer() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (String path : List.of("/", "/console.js", "/lib/uPlot.iife.min.js", "/lib/stomp.umd.min.js", "/settings.json")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(console.uri().resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Security-Policy").orElse(""))
                    .contains("connect-src 'self' ws://127.0.0.1:");
        }
        assertThat(http.send(HttpRequest.newBuilder(console.uri().resolve("/settings.json")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("\"high\":75.0", "\"low\":40.0");
        assertThat(http.send(HttpRequest.newBuilder(console.uri().resolve("/../pom.xml")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(console.uri() + "settings.json"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding()).statusCode())
                .isEqualTo(405);
    }
}
