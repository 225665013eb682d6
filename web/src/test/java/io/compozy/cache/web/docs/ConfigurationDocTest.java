package io.compozy.cache.web.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.JCacheSettings;
import io.compozy.cache.config.ModeResolver;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.config.TopologySettings;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md against the code, so neither can drift: every configuration key the code
 * defines is in the table, with the default its code gives and the right environment variable, every
 * key in the table exists in the code, and the shipped server.xml's values appear in the table.
 *
 * <p>Keys are the adapter's {@code CacheSettings}/{@code PersistenceSettings}/{@code TlsSettings} constants, the
 * {@code ModeResolver} keys, and every {@code public static final String ..._KEY} of the web application
 * (stores, REST, workflows, metrics, health): a new key there fails this test until it is documented.
 */
class ConfigurationDocTest {

    static final Path DOCS = Path.of("..", "docs");
    static final Path SERVER_XML = Path.of("..", "src", "main", "liberty", "config", "server.xml");
    private static final Pattern KEY_VALUE = Pattern.compile("[a-z_]+(\\.[a-z_]+)*");

    /** One row of the table: key, default cell, environment variable cell, shipped cell. */
    record Row(String key, String defaultCell, String envVar, String shipped) {
    }

    @Test
    void everyKeyOfTheCodeIsDocumentedWithItsDefaultAndEnvironmentVariable() throws Exception {
        Map<String, Row> documented = table();
        Map<String, Optional<String>> keys = codeKeys();
        assertThat(keys).hasSizeGreaterThan(30);
        for (var entry : keys.entrySet()) {
            Row row = documented.get(entry.getKey());
            assertThat(row).as("docs/configuration.md has no row for " + entry.getKey()).isNotNull();
            assertThat(row.envVar()).as("environment variable of " + entry.getKey()).isEqualTo("`" + envVar(entry.getKey()) + "`");
            entry.getValue().ifPresent(defaultValue -> assertThat(row.defaultCell())
                    .as("default of " + entry.getKey()).contains("`" + defaultValue + "`"));
        }
    }

    @Test
    void theDocumentListsNoKeyTheCodeDoesNotHave() throws Exception {
        assertThat(table().keySet()).containsExactlyInAnyOrderElementsOf(codeKeys().keySet());
    }

    @Test
    void theShippedServerXmlValuesAreTheOnesDocumented() throws Exception {
        Map<String, Row> documented = table();
        Map<String, String> shipped = shippedVariables();
        assertThat(shipped).containsKeys("mode", "redis.standalone.persistence.enabled");
        Map<String, String> serverVariables = serverVariables();
        for (var entry : shipped.entrySet()) {
            if (serverVariables.containsKey(entry.getKey())) {
                assertThat(serverVariables.get(entry.getKey())).as("shipped value of server variable " + entry.getKey())
                        .isEqualTo("`" + entry.getValue() + "`");
                continue;
            }
            Row row = documented.get(entry.getKey());
            assertThat(row).as("server.xml sets " + entry.getKey() + ", which the table lacks").isNotNull();
            String expected = "`" + entry.getValue() + "`";
            assertThat(row.shipped().isBlank() ? row.defaultCell() : row.shipped())
                    .as("shipped value of " + entry.getKey()).contains(expected);
        }
    }

    /** MicroProfile Config's environment form: upper case, every non-alphanumeric character an underscore. */
    static String envVar(final String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    static Map<String, Row> table() throws IOException {
        Map<String, Row> rows = new LinkedHashMap<>();
        boolean inKeys = false;
        for (String line : Files.readAllLines(DOCS.resolve("configuration.md"))) {
            if (line.startsWith("## ")) {
                inKeys = line.equals("## Keys");
            }
            if (inKeys && line.startsWith("| `")) {
                String[] cells = line.split("\\|");
                String key = cells[1].trim().replace("`", "");
                assertThat(rows).as("duplicate row for " + key).doesNotContainKey(key);
                rows.put(key, new Row(key, cells[2].trim(), cells[3].trim(), cells[4].trim()));
            }
        }
        return rows;
    }

    /** The "Server variables" table: Liberty variables of server.xml that are not cache keys, with their shipped cell. */
    static Map<String, String> serverVariables() throws IOException {
        Map<String, String> rows = new LinkedHashMap<>();
        boolean inVariables = false;
        for (String line : Files.readAllLines(DOCS.resolve("configuration.md"))) {
            if (line.startsWith("## ")) {
                inVariables = line.startsWith("## Server variables");
            }
            if (inVariables && line.startsWith("| `")) {
                String[] cells = line.split("\\|");
                rows.put(cells[1].trim().replace("`", ""), cells[2].trim());
            }
        }
        return rows;
    }

    /** Every key the code defines, with the default the code gives it when it has one. */
    static Map<String, Optional<String>> codeKeys() throws Exception {
        Map<String, Optional<String>> keys = new TreeMap<>();
        for (Class<?> type : List.of(CacheSettings.class, PersistenceSettings.class, TlsSettings.class,
                ImportSettings.class, JCacheSettings.class, TopologySettings.class)) {
            for (Field field : type.getDeclaredFields()) {
                if (isConstant(field) && Modifier.isPublic(field.getModifiers()) && field.getType() == String.class
                        && KEY_VALUE.matcher((String) field.get(null)).matches() && ((String) field.get(null)).contains(".")) {
                    keys.put((String) field.get(null), defaultOf(type, "DEFAULT_" + field.getName()));
                }
            }
        }
        for (Field field : ModeResolver.class.getDeclaredFields()) {
            if (isConstant(field) && field.getName().endsWith("_KEY")) {
                keys.put((String) field.get(null), Optional.empty());
            }
        }
        for (Class<?> type : webClasses()) {
            for (Field field : type.getDeclaredFields()) {
                if (isConstant(field) && Modifier.isPublic(field.getModifiers()) && field.getType() == String.class
                        && field.getName().endsWith("_KEY") && KEY_VALUE.matcher((String) field.get(null)).matches()) {
                    String stem = field.getName().substring(0, field.getName().length() - "_KEY".length());
                    keys.put((String) field.get(null), defaultOf(type, "DEFAULT_" + stem));
                }
            }
        }
        return keys;
    }

    private static boolean isConstant(final Field field) {
        int modifiers = field.getModifiers();
        return Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers);
    }

    private static Optional<String> defaultOf(final Class<?> type, final String name) throws IllegalAccessException {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return Optional.of(String.valueOf(field.get(null)));
        } catch (NoSuchFieldException e) {
            return Optional.empty();
        }
    }

    /** The compiled classes of the web application (target/classes). */
    private static List<Class<?>> webClasses() throws IOException, URISyntaxException {
        Path root = Path.of(io.compozy.cache.web.store.StoreException.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.toString().endsWith(".class"))
                    .map(p -> root.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", ""))
                    .map(ConfigurationDocTest::load)
                    .flatMap(Optional::stream)
                    .toList();
        }
    }

    private static Optional<Class<?>> load(final String name) {
        try {
            return Optional.of(Class.forName(name, false, ConfigurationDocTest.class.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
    }

    /** The {@code <variable name=... defaultValue=...>} entries of the shipped server.xml. */
    static Map<String, String> shippedVariables() throws Exception {
        var document = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(SERVER_XML.toFile());
        var variables = document.getElementsByTagName("variable");
        Map<String, String> shipped = new LinkedHashMap<>();
        for (int i = 0; i < variables.getLength(); i++) {
            var element = (org.w3c.dom.Element) variables.item(i);
            shipped.put(element.getAttribute("name"), element.getAttribute("defaultValue"));
        }
        return shipped;
    }
}
