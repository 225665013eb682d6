package io.compozy.cache.web.workflow;

import static io.compozy.cache.web.workflow.WorkflowDefinitionTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The built-in tools and the deterministic agent. */
class ToolsTest {

    private static final JsonObject NONE = Json.createObjectBuilder().build();

    @Test
    void uppercaseAndWordCountWorkOnStrings() {
        assertThat(Tools.run("uppercase", NONE, Json.createValue("hello wörld"))).isEqualTo(Json.createValue("HELLO WÖRLD"));
        assertThat(Tools.run("word_count", NONE, Json.createValue("  one two\tthree\n")))
                .isEqualTo(json("{\"text\":\"  one two\\tthree\\n\",\"words\":3}"));
        assertThat(Tools.run("word_count", NONE, Json.createValue("   "))).isEqualTo(json("{\"text\":\"   \",\"words\":0}"));
    }

    @Test
    void aStringToolRefusesOtherInputSayingWhatToDo() {
        assertThatThrownBy(() -> Tools.run("uppercase", NONE, json("{\"a\":1}"))).isInstanceOf(TaskFailure.class)
                .hasMessage("tool 'uppercase' needs a string input, got object; put a json_pick task before it to choose a string field");
    }

    @Test
    void jsonPickFollowsADottedPathAndNamesWhatIsMissing() {
        JsonObject with = Json.createObjectBuilder().add("field", "user.name").build();
        assertThat(Tools.run("json_pick", with, json("{\"user\":{\"name\":\"Ada\",\"id\":1}}"))).isEqualTo(Json.createValue("Ada"));
        assertThatThrownBy(() -> Tools.run("json_pick", with, json("{\"user\":{\"id\":1}}"))).isInstanceOf(TaskFailure.class)
                .hasMessage("json_pick: the input has no field 'user.name' (it has: id)");
        assertThatThrownBy(() -> Tools.run("json_pick", with, json("{\"user\":\"Ada\"}"))).isInstanceOf(TaskFailure.class)
                .hasMessage("json_pick: the input has no field 'user.name' (the value there is string, not an object)");
    }

    @Test
    void theAgentRepliesFromItsTemplateAndCountsWhitespaceWords() {
        DeterministicAgent.Turn turn = DeterministicAgent.answer("You said: {input}", Json.createValue("hello there"));
        assertThat(turn.reply()).isEqualTo("You said: hello there");
        assertThat(turn.tokens()).isEqualTo(2 + 4);
        assertThat(DeterministicAgent.answer("ok", json("{\"a\":1}")).input()).isEqualTo("{\"a\":1}");
    }
}
