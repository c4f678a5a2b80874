package io.vmscale.cli.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.TestBrokers;
import io.vmscale.cli.TestStack;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.stack.Stack;
import io.vmscale.guest.GuestServer;
import io.vmscale.libvirt.HostConnection;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Groups in the web console, in a real headless browser against a whole stack ({@code up}'s) over libvirt's test
 * driver, whose domains point at real guest servers on loopback: an operator creates a group from the page (a mistake
 * first, refused beside the control with the key named), sees its first replica READY, shows one group and then the
 * other, deletes the new one after a confirmation; a viewer's attempt is refused with the broker's reason. Leaves
 * {@code target/console-groups.png}.
 */
class ConsoleGroupsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private final List<AutoCloseable> running = new ArrayList<>();
    private ChromeDriver browser;
    private WebDriverWait waiting;

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        Stack.closeAll(running);
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

    private void logIn(WebConsole console, String user, String password) {
        browser.get(console.uri().toString());
        WebElement name = waiting.until(ExpectedConditions.visibilityOfElementLocated(By.id("user")));
        name.sendKeys(user);
        browser.findElement(By.id("password")).sendKeys(password);
        browser.findElement(By.id("login-button")).click();
    }

    private void type(String id, String value) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(value);
    }

    @Test
    void anOperatorCreatesShowsAndDeletesAGroupFromThePageAndAViewerIsRefused() throws Exception {
        BrokerConfig broker = TestBrokers.config(dir.resolve("broker"));
        Path config = dir.resolve("vmscale.json");
        Files.writeString(config, """
                {"broker": {"port": %d, "dataDir": "%s", "users": [
                   {"name": "comp", "password": "comp-secret", "role": "component"},
                   {"name": "op", "password": "op-secret", "role": "operator"},
                   {"name": "view", "password": "view-secret", "role": "viewer"}]},
                 "libvirt": {"uris": ["test:///default"], "prefix": "cgudp"},
                 "provisioning": {"mode": "pool"},
                 "balancer": {"frontPort": 0, "statsIntervalMs": 200},
                 "scaler": {"minReplicas": 1, "maxReplicas": 1, "tickMs": 200, "probeTimeoutSeconds": 10,
                            "drainTimeoutSeconds": 5}}
                """.formatted(broker.port(), broker.dataDir()));
        // the operator's domains of both groups (pool mode), each a real guest server on loopback; the test
        // driver's state is the process's: the stack's connections see them
        HostConnection host = HostConnection.open(TestStack.URI);
        running.add(host);
        for (String domain : List.of("cgudp-0000", "cgweb-0000")) {
            GuestServer guest = GuestServer.start(GuestServer.Options.defaults(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
            running.add(guest);
            host.domains().define(TestStack.poolDomain(domain, guest.address().getPort()));
        }
        VmscaleConfig loaded = ConfigLoader.load(config);
        Stack stack = Stack.start(loaded, new PrintWriter(new StringWriter(), true), "console-groups");
        running.add(stack);
        WebConsole console = WebConsole.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                WebConsole.Settings.of(loaded));
        running.add(console::close);
        browser = ConsoleTest.browser(dir);
        waiting = new WebDriverWait(browser, WAIT);

        logIn(console, "op", "op-secret");
        waitForText("groups", "cgudp");
        waiting.withMessage("the first group's replica READY").until(d -> rowState("cgudp-0000").equals("READY"));
        assertThat(text("shown-group")).isEqualTo("cgudp");
        assertThat(browser.findElement(By.id("group-delete")).isEnabled()).as("the first group is not deleted").isFalse();

        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("document.getElementById('group-new').open = true");
        type("new-name", "cgweb");
        type("new-min", "1");
        type("new-max", "0");
        browser.findElement(By.id("group-create")).click();
        waitForText("group-create-out", "group create cgweb: scaler@", "error: group cgweb's spec: key "
                + "'scaler.maxReplicas': expected");
        assertThat(browser.findElement(By.id("group-create-out")).getAttribute("class")).isEqualTo("refused");

        type("new-max", "2");
        browser.findElement(By.id("group-create")).click();
        waitForText("group-create-out", "group cgweb created: 1..2 replicas cgweb-NNNN");
        waitForText("groups", "cgweb");
        new Select(browser.findElement(By.id("group"))).selectByVisibleText("cgweb");
        waitForText("shown-group", "cgweb");
        waiting.withMessage("the new group's first replica READY").until(d -> rowState("cgweb-0000").equals("READY"));
        assertThat(rowState("cgudp-0000")).as("the other group's replicas are not shown").isEmpty();
        waitForText("alerts", "group cgweb created");
        Path png = Paths.get("target", "console-groups.png");
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), png, StandardCopyOption.REPLACE_EXISTING);

        // its spec changed from the page: a mistake refused beside the control with its key, then a new maximum; the
        // group's scaler starts again with it and takes its replica back
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "document.getElementById('group-change-box').open = true");
        type("change-spec", "[1]");
        browser.findElement(By.id("group-change")).click();
        waitForText("group-change-out", "group change cgweb: expected a JSON object");
        type("change-spec", "{\"scaler\": {\"maxReplicas\": 0}}");
        browser.findElement(By.id("group-change")).click();
        waitForText("group-change-out", "group change cgweb: scaler@", "error: group cgweb's spec: key "
                + "'scaler.maxReplicas': expected");
        assertThat(browser.findElement(By.id("group-change-out")).getAttribute("class")).isEqualTo("refused");
        type("change-spec", "{\"scaler\": {\"maxReplicas\": 4}}");
        browser.findElement(By.id("group-change")).click();
        waitForText("group-change-out", "changing the group cgweb (scaler.maxReplicas)");
        waitForText("alerts", "group cgweb changed: changed by an operator: scaler.maxReplicas");
        waiting.withMessage("the group's new maximum listed").until(d -> text("group-cgweb").contains("1..4"));
        waiting.withMessage("its replica taken back").until(d -> rowState("cgweb-0000").equals("READY"));

        // deleting asks first: dismissed, nothing is done
        browser.findElement(By.id("group-delete")).click();
        browser.switchTo().alert().dismiss();
        waitForText("group-delete-out", "group delete cgweb: not confirmed, nothing done");
        browser.findElement(By.id("group-delete")).click();
        assertThat(browser.switchTo().alert().getText()).startsWith("Delete the group cgweb?");
        browser.switchTo().alert().accept();
        waitForText("group-delete-out", "deleting the group cgweb: its 1 replica(s) are drained one at a time");
        waitForText("alerts", "group cgweb deleted");
        waiting.withMessage("the groups without cgweb").until(d -> !text("groups").contains("cgweb"));
        waitForText("shown-group", "cgudp");
        assertThat(stack.groups().names()).containsExactly("cgudp");

        // a viewer's attempt is refused by the broker, said beside the control
        browser.findElement(By.id("logout")).click();
        logIn(console, "view", "view-secret");
        waitForText("session", "view @ ws://127.0.0.1:", "(read only)");
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("document.getElementById('group-new').open = true");
        type("new-name", "cgother");
        // the refused status ends the first connection (STOMP's rule after an error): a click while the page
        // reconnects is answered "not sent ... try again" at once, and the user clicks again
        String refused = "group create cgother: refused by the broker: user 'view' may not send commands to vmscale.admin";
        waiting.withMessage(() -> "the broker's refusal, it shows: " + text("group-create-out")).until(d -> {
            String said = text("group-create-out");
            if (!said.contains(refused) && !said.contains("sent ...")) {
                browser.findElement(By.id("group-create")).click();
            }
            return text("group-create-out").contains(refused);
        });
        assertThat(stack.groups().names()).containsExactly("cgudp");
    }
}
