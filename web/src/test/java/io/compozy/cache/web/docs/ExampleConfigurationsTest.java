package io.compozy.cache.web.docs;

import static io.compozy.cache.web.docs.ConfigurationDocTest.DOCS;
import static io.compozy.cache.web.docs.ConfigurationDocTest.SERVER_XML;
import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Every file in docs/examples/ (outside workflows/) is read the way Liberty and the adapter would read it:
 * the server.xml examples carry the shipped server.xml's features and resource wiring, and their
 * variables, the env file and the jvm.options load through the adapter's own settings code.
 */
class ExampleConfigurationsTest {

    private static final Path EXAMPLES = DOCS.resolve("examples");

    @TempDir
    Path output;

    @Test
    void everyExampleIsCovered() throws Exception {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("standalone-server.xml", "distributed-server.xml",
                            "other-application-server.xml", "compozy-cache.env", "jvm.options",
                            "api-access-open.xml", "api-access-login.xml");
        }
    }

    @Test
    void theStandaloneExampleIsTheShippedWiringAndLoadsAsStandaloneWithPersistence() throws Exception {
        Document example = parse(EXAMPLES.resolve("standalone-server.xml"));
        assertSameWiringAsShipped(example);
        // It says it is the shipped setup: every element, attribute and value the same; only comments differ.
        assertThat(canonical(example.getDocumentElement()))
                .isEqualTo(canonical(parse(SERVER_XML).getDocumentElement()));
        CacheSettings settings = CacheSettings.load(ConfigLookup.of(variables(example)));
        assertThat(settings.mode()).isEqualTo(Mode.STANDALONE);
        assertThat(settings.standalone().persistence().enabled()).isTrue();
    }

    /** The role bindings an operator copies are the ones the server ships with. */
    @Test
    void theApiAccessExamplesAreTheShippedBindings() throws Exception {
        for (String file : List.of("api-access-open.xml", "api-access-login.xml")) {
            assertThat(Files.readString(EXAMPLES.resolve(file))).as(file)
                    .isEqualTo(Files.readString(SERVER_XML.resolveSibling(file)));
        }
        assertThat(Files.readString(SERVER_XML.resolveSibling("api-access-open.xml")))
                .contains("<special-subject type=\"EVERYONE\"/>");
        assertThat(Files.readString(SERVER_XML.resolveSibling("api-access-login.xml")))
                .doesNotContain("EVERYONE", "ALL_AUTHENTICATED");
    }

    @Test
    void theFeatureListInTheDeploymentGuideIsTheShippedOne() throws Exception {
        String guide = Files.readString(DOCS.resolve("deployment.md"));
        java.util.regex.Matcher list = java.util.regex.Pattern.compile("The features it\\s+needs: `([^`]+)`")
                .matcher(guide);
        assertThat(list.find()).as("docs/deployment.md lists the features").isTrue();
        assertThat(List.of(list.group(1).trim().split("\\s+")))
                .containsExactlyInAnyOrderElementsOf(texts(parse(SERVER_XML), "feature"));
    }

    @Test
    void theDistributedExampleIsTheShippedWiringAndLoadsAsDistributed() throws Exception {
        Document example = parse(EXAMPLES.resolve("distributed-server.xml"));
        assertSameWiringAsShipped(example);
        Map<String, String> variables = variables(example);
        assertThat(variables).doesNotContainKey("redis.password");
        CacheSettings settings = CacheSettings.load(ConfigLookup.of(variables));
        assertThat(settings.mode()).isEqualTo(Mode.DISTRIBUTED);
        assertThat(settings.address().host()).isEqualTo("redis.internal.example");
    }

    @Test
    void theOtherApplicationExampleUsesTheAdaptersClassProviderAsTheTestHarnessDoes() throws Exception {
        Document example = parse(EXAMPLES.resolve("other-application-server.xml"));
        Element classloader = (Element) example.getElementsByTagName("classloader").item(0);
        assertThat(((Element) classloader.getParentNode()).getTagName()).isIn("webApplication", "application");
        String adapterId = ((Element) parse(SERVER_XML).getElementsByTagName("resourceAdapter").item(0)).getAttribute("id");
        assertThat(classloader.getAttribute("classProviderRef")).isEqualTo(adapterId);
        // The integration tests deploy their second application with exactly this element.
        String harness = Files.readString(Path.of("..", "ear", "src", "test", "liberty", "second-app-classloader.xml"));
        assertThat(harness).contains("<classloader classProviderRef=\"" + adapterId + "\"/>");
        // Its own factory, with the prefix property the test harness's walled factory uses (it-factories.xml).
        Element properties = (Element) example.getElementsByTagName("properties.compozyCache").item(0);
        assertThat(properties.getAttribute("keyPrefix")).isEqualTo("orders:");
        String walled = Files.readString(Path.of("..", "ear", "src", "test", "liberty", "configDropins", "overrides",
                "it-factories.xml"));
        assertThat(walled).contains("<properties.compozyCache keyPrefix=");
    }

    /** The env file's password line: commented out, no value, for the operator to fill in. */
    private static final String OPERATOR_FILLS = "#REDIS_PASSWORD=";

    @Test
    void theEnvFileNamesOnlyDocumentedKeysAndLoads() throws Exception {
        Map<String, String> byEnvVar = documentedEnvVars();
        Map<String, String> values = new HashMap<>();
        List<String> lines = Files.readAllLines(EXAMPLES.resolve("compozy-cache.env"));
        assertThat(lines).as("the password line the operator fills in, with no value shipped").contains(OPERATOR_FILLS);
        for (String given : lines) {
            // Filled in as an operator would, with a value made up for this run.
            String line = given.equals(OPERATOR_FILLS) ? "REDIS_PASSWORD=made-up-" + UUID.randomUUID() : given;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String name = line.substring(0, line.indexOf('='));
            assertThat(byEnvVar).as("compozy-cache.env sets " + name).containsKey(name);
            values.put(byEnvVar.get(name), line.substring(line.indexOf('=') + 1));
        }
        CacheSettings settings = CacheSettings.load(ConfigLookup.of(values));
        assertThat(settings.mode()).isEqualTo(Mode.DISTRIBUTED);
        assertThat(settings.password()).isPresent();
        assertThat(settings.toString()).doesNotContain(values.get("redis.password"));
    }

    @Test
    void theJvmOptionsSetTheGlobalModeToStandaloneAndAReadableSerialFilter() throws Exception {
        Map<String, String> properties = new HashMap<>();
        for (String line : Files.readAllLines(EXAMPLES.resolve("jvm.options"))) {
            if (line.startsWith("-D")) {
                properties.put(line.substring(2, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        assertThat(properties).containsOnlyKeys("mode", "jdk.serialFilter");
        // The documented session filter is one the JDK reads (a typo would stop every deserialization).
        assertThat(java.io.ObjectInputFilter.Config.createFilter(properties.remove("jdk.serialFilter"))).isNotNull();
        properties.put("redis.standalone.work_dir", output.toString());
        assertThat(CacheSettings.load(ConfigLookup.of(properties)).mode()).isEqualTo(Mode.STANDALONE);
    }

    private void assertSameWiringAsShipped(final Document example) throws Exception {
        Document shipped = parse(SERVER_XML);
        assertThat(texts(example, "feature")).containsExactlyInAnyOrderElementsOf(texts(shipped, "feature"));
        for (String element : List.of("resourceAdapter", "connectionFactory", "enterpriseApplication", "httpEndpoint",
                "basicRegistry", "user", "include", "mpJwt", "authFilter", "requestHeader", "classloader", "library", "file",
                "httpSessionCache", "properties.compozyCache")) {
            assertThat(attributes(example, element)).as(element).isEqualTo(attributes(shipped, element));
        }
        // The shipped factory and the administrator's, nothing more: any other is the operator's choice.
        assertThat(example.getElementsByTagName("properties.compozyCache").getLength()).isEqualTo(2);
        Set<String> documented = ConfigurationDocTest.table().keySet();
        Set<String> serverVariables = ConfigurationDocTest.serverVariables().keySet();
        for (String name : variables(example).keySet()) {
            assertThat(documented.contains(name) || serverVariables.contains(name)).as("undocumented variable " + name).isTrue();
        }
    }

    private Map<String, String> variables(final Document document) {
        Map<String, String> values = new LinkedHashMap<>();
        var variables = document.getElementsByTagName("variable");
        for (int i = 0; i < variables.getLength(); i++) {
            Element variable = (Element) variables.item(i);
            values.put(variable.getAttribute("name"),
                    variable.getAttribute("defaultValue").replace("${server.output.dir}", output.toString()));
        }
        return values;
    }

    private static Map<String, String> documentedEnvVars() throws Exception {
        Map<String, String> byEnvVar = new HashMap<>();
        ConfigurationDocTest.table().keySet().forEach(key -> byEnvVar.put(ConfigurationDocTest.envVar(key), key));
        byEnvVar.put("HTTP_PORT", "http.port");
        byEnvVar.put("HTTP_HOST", "http.host");
        return byEnvVar;
    }

    private static List<String> texts(final Document document, final String tag) {
        List<String> texts = new ArrayList<>();
        var nodes = document.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) {
            texts.add(nodes.item(i).getTextContent().trim());
        }
        return texts;
    }

    private static String attributes(final Document document, final String tag) {
        Element element = (Element) document.getElementsByTagName(tag).item(0);
        var attributes = element.getAttributes();
        return java.util.stream.IntStream.range(0, attributes.getLength()).mapToObj(attributes::item)
                .map(a -> a.getNodeName() + "=" + a.getNodeValue()).sorted().collect(Collectors.joining(" "));
    }

    /** An element as one line per node, attributes sorted, comments and blank text left out. */
    private static String canonical(final Element element) {
        StringBuilder out = new StringBuilder();
        canonical(element, "", out);
        return out.toString();
    }

    private static void canonical(final Element element, final String indent, final StringBuilder out) {
        var attributes = element.getAttributes();
        out.append(indent).append('<').append(element.getTagName()).append(java.util.stream.IntStream
                .range(0, attributes.getLength()).mapToObj(attributes::item)
                .map(a -> " " + a.getNodeName() + "=\"" + a.getNodeValue() + "\"").sorted()
                .collect(java.util.stream.Collectors.joining())).append(">\n");
        var children = element.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            var child = children.item(i);
            if (child instanceof Element nested) {
                canonical(nested, indent + "  ", out);
            } else if (child.getNodeType() == org.w3c.dom.Node.TEXT_NODE && !child.getNodeValue().isBlank()) {
                out.append(indent).append("  ").append(child.getNodeValue().trim()).append('\n');
            }
        }
    }

    private static Document parse(final Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }
}
