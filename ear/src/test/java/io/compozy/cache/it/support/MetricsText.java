package io.compozy.cache.it.support;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Reads samples out of a Prometheus text scrape ({@code GET /metrics}) by name and labels. */
public final class MetricsText {

    private final List<String> lines;

    private MetricsText(final String body) {
        this.lines = body.lines().toList();
    }

    /** Scrapes the running server's {@code /metrics}. */
    public static MetricsText scrape() {
        var response = LibertyProcess.get("/metrics");
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET /metrics answered " + response.statusCode() + ": " + response.body());
        }
        return new MetricsText(response.body());
    }

    public static MetricsText of(final String body) {
        return new MetricsText(body);
    }

    /**
     * The value of the one sample {@code name} that carries every {@code label="value"} pair given
     * ({@code labels} alternate names and values); empty when there is none.
     */
    public Optional<Double> value(final String name, final String... labels) {
        List<String> wanted = new java.util.ArrayList<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.add(labels[i] + "=\"" + labels[i + 1] + "\"");
        }
        return lines.stream()
                .filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
                .filter(line -> wanted.stream().allMatch(line::contains))
                .map(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst();
    }

    /** The value, 0 when the sample does not exist yet (a counter nobody incremented). */
    public double count(final String name, final String... labels) {
        return value(name, labels).orElse(0.0);
    }

    /** The {@code # TYPE} of a metric family, or empty. */
    public String type(final String name) {
        return lines.stream().filter(line -> line.startsWith("# TYPE " + name + " "))
                .map(line -> line.substring(line.lastIndexOf(' ') + 1)).findFirst().orElse("");
    }

    /** Whether any sample's name starts with {@code prefix}. */
    public boolean hasAny(final String prefix) {
        return lines.stream().anyMatch(line -> !line.startsWith("#") && line.startsWith(prefix));
    }

    /** The sample lines of one family, for messages. */
    public String family(final String name) {
        return String.join("\n", lines.stream().filter(line -> line.startsWith(name)).toList());
    }

    @Override
    public String toString() {
        return String.join("\n", Arrays.asList(lines.toArray(String[]::new)));
    }
}
