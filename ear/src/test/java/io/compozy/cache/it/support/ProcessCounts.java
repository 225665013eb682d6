package io.compozy.cache.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a running JVM holds, read from Linux's /proc and the JDK's jcmd: threads, open files, child
 * redis-server processes and live instances of a class. Lifecycle tests count them before and after a
 * fault to find leaks.
 */
public final class ProcessCounts {

    private ProcessCounts() {
    }

    /** The process's threads (/proc/PID/task). */
    public static int threads(final long pid) {
        return entries(Path.of("/proc", Long.toString(pid), "task")).size();
    }

    /** The process's threads by name (/proc/PID/task/N/comm: the JVM gives each native thread its Java name, cut to 15 characters). */
    public static java.util.Map<String, Long> threadNames(final long pid) {
        java.util.Map<String, Long> names = new java.util.TreeMap<>();
        for (Path task : entries(Path.of("/proc", Long.toString(pid), "task"))) {
            try {
                names.merge(Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+$", "N"), 1L, Long::sum);
            } catch (IOException e) {
                // the thread ended meanwhile
            }
        }
        return names;
    }

    /** The process's open file descriptors (/proc/PID/fd). */
    public static int fileDescriptors(final long pid) {
        return entries(Path.of("/proc", Long.toString(pid), "fd")).size();
    }

    /** The open file descriptors whose target's file name is {@code name} (for example {@code je.lck}). */
    public static long openFilesNamed(final long pid, final String name) {
        return entries(Path.of("/proc", Long.toString(pid), "fd")).stream().filter(fd -> {
            try {
                Path target = Files.readSymbolicLink(fd).getFileName();
                return target != null && target.toString().equals(name);
            } catch (IOException e) {
                return false; // closed meanwhile
            }
        }).count();
    }

    /** The redis-server processes among the descendants of {@code pid} (its embedded servers). */
    public static List<ProcessHandle> redisDescendants(final long pid) {
        return ProcessHandle.of(pid).map(p -> p.descendants().filter(ProcessCounts::isRedisServer).toList())
                .orElse(List.of());
    }

    /** Every redis-server process on the machine whose working directory lies under {@code dir}. */
    public static List<ProcessHandle> redisServersUnder(final Path dir) {
        Path root = dir.toAbsolutePath().normalize();
        return ProcessHandle.allProcesses().filter(ProcessCounts::isRedisServer).filter(p -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).startsWith(root);
            } catch (IOException e) {
                return false; // gone, or not ours to read
            }
        }).toList();
    }

    /**
     * Live instances of the class named {@code className} in the JVM, after a full GC
     * ({@code jcmd PID GC.class_histogram}): more than one instance of an application-scoped bean after a
     * redeploy means an old application generation is still reachable.
     */
    public static long liveInstances(final long pid, final String className) {
        String histogram = run("jcmd", Long.toString(pid), "GC.class_histogram");
        return histogram.lines().map(String::trim)
                .map(line -> line.split("\\s+"))
                .filter(cols -> cols.length >= 4 && cols[3].equals(className))
                .mapToLong(cols -> Long.parseLong(cols[1]))
                .sum();
    }

    private static boolean isRedisServer(final ProcessHandle process) {
        return process.info().command().map(c -> Path.of(c).getFileName().toString().startsWith("redis-server"))
                .orElse(false);
    }

    private static List<Path> entries(final Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String run(final String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
