package io.compozy.cache.web.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.web.store.StoreException;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

/** What a definition may say, and the messages that tell an author what to fix. */
class WorkflowDefinitionTest {

    static JsonValue json(final String text) {
        return Json.createReader(new StringReader(text)).readValue();
    }

    @Test
    void readsTasksInOrderWithTheirKindsAndOptions() {
        WorkflowDefinition definition = WorkflowDefinition.parse("greet", json("""
                {"description":"d","tasks":[
                  {"id":"ask","kind":"agent","reply":"Hi {input}"},
                  {"id":"loud","kind":"tool","tool":"uppercase"},
                  {"id":"pick","kind":"tool","tool":"json_pick","with":{"field":"a.b"}},
                  {"id":"plain","kind":"agent"}]}"""));

        assertThat(definition.description()).isEqualTo("d");
        assertThat(definition.tasks()).extracting(WorkflowDefinition.Task::id).containsExactly("ask", "loud", "pick", "plain");
        assertThat(definition.tasks().get(0).reply()).isEqualTo("Hi {input}");
        assertThat(definition.tasks().get(2).with().getString("field")).isEqualTo("a.b");
        assertThat(definition.tasks().get(3).reply()).isEqualTo(DeterministicAgent.DEFAULT_REPLY);
        assertThat(definition.tasks().get(1).config()).isEqualTo(json("{\"id\":\"loud\",\"kind\":\"tool\",\"tool\":\"uppercase\"}"));
    }

    @Test
    void invalidDefinitionsAreRefusedNamingWorkflowTaskAndFix() {
        assertInvalid("[]", "workflow 'w' must be a JSON object");
        assertInvalid("{\"tasks\":[]}", "needs a non-empty 'tasks' array");
        assertInvalid("{\"tasks\":[{\"kind\":\"agent\"}]}", "task 1: 'id' is required");
        assertInvalid("{\"tasks\":[{\"id\":\"a b\",\"kind\":\"agent\"}]}", "may use only letters");
        assertInvalid("{\"tasks\":[{\"id\":\"a\",\"kind\":\"llm\"}]}", "kind 'llm' is unknown; use 'agent' or 'tool'");
        assertInvalid("{\"tasks\":[{\"id\":\"a\",\"kind\":\"tool\",\"tool\":\"curl\"}]}",
                "tool 'curl' is unknown; built-in tools are json_pick, uppercase, word_count");
        assertInvalid("{\"tasks\":[{\"id\":\"a\",\"kind\":\"tool\",\"tool\":\"json_pick\"}]}", "needs \"with\":{\"field\"");
        assertInvalid("{\"tasks\":[{\"id\":\"a\",\"kind\":\"tool\",\"tool\":\"uppercase\",\"with\":1}]}", "'with' must be a JSON object");
        assertInvalid("{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"},{\"id\":\"a\",\"kind\":\"agent\"}]}",
                "task id 'a' is used twice");
        assertInvalid("{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\",\"reply\":7}]}", "('a'): 'reply' is required and must be a non-empty string");
    }

    private static void assertInvalid(final String definition, final String message) {
        assertThatThrownBy(() -> WorkflowDefinition.parse("w", json(definition)))
                .isInstanceOfSatisfying(StoreException.class,
                        e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INVALID_ARGUMENT))
                .hasMessageContaining(message);
    }
}
