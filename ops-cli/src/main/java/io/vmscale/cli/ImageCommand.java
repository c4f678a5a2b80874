package io.vmscale.cli;

import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Home;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.scaler.provision.GuestImage;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Build the guest image (kernel + initramfs booting into the guest server on UDP 21001) into "
                + "provisioning.imageDir; rebuilt only when an input changed. The last two lines are "
                + "'kernel: PATH' and 'initrd: PATH'.")
final class ImageCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        VmscaleConfig loaded = config.load();
        PrintWriter err = spec.commandLine().getErr();
        GuestImage image = GuestImage.ensure(Home.dir(), Home.resolve(loaded.provisioning().imageDir()), line -> {
            if (!line.startsWith("kernel: ") && !line.startsWith("initrd: ")) {
                err.println(line);
                err.flush();
            }
        });
        PrintWriter out = spec.commandLine().getOut();
        out.println("kernel: " + image.kernel());
        out.println("initrd: " + image.initrd());
        out.flush();
        return 0;
    }
}
