package io.compozy.cache.it.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs of its own, to give the server a disk that fills up. Mounting needs root: CI runs as root
 * and runs these tests (with {@code CI} set they never skip); a developer who is not root sees them
 * skipped, with the reason, as the README says.
 */
public final class Tmpfs implements AutoCloseable {

    private final Path mountPoint;

    private Tmpfs(final Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Mounts a tmpfs of {@code size} (mount's syntax: {@code 96m}) on a new directory. */
    public static Tmpfs mount(final Path mountPoint, final String size) {
        boolean asRoot = new com.sun.security.auth.module.UnixSystem().getUid() == 0;
        Assumptions.assumeTrue(asRoot || System.getenv("CI") != null,
                "this test mounts a tmpfs, which needs root: run it as root (CI does)");
        try {
            Files.createDirectories(mountPoint);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", mountPoint.toString());
        return new Tmpfs(mountPoint);
    }

    public Path path() {
        return mountPoint;
    }

    /** Grows (or shrinks, down to what is used) the file system in place; open files stay open. */
    public void resize(final String size) {
        run("mount", "-o", "remount,size=" + size, mountPoint.toString());
    }

    /** What another process would do: fills the disk with a file until only {@code leftBytes} are free. */
    public Path fillLeaving(final long leftBytes) {
        Path filler = mountPoint.resolve("filler");
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (long left = mountPoint.toFile().getUsableSpace() - leftBytes; left > 0; left -= block.length) {
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return filler;
    }

    @Override
    public void close() {
        run("umount", mountPoint.toString());
    }

    private static void run(final String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + process.exitValue()
                        + "): " + output.strip() + ". This test mounts a tmpfs: run it as root or with"
                        + " CAP_SYS_ADMIN (CI does).");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
