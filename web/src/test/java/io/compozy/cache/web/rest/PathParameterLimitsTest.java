package io.compozy.cache.web.rest;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PathParameterLimitsTest {

    private final PathParameterLimits limits = new PathParameterLimits(16);

    @Test
    void acceptsOrdinaryAndNonAsciiKeysUpToTheLimit() {
        assertThatCode(() -> limits.check("key", "chat:1*?[x]..")).doesNotThrowAnyException();
        assertThatCode(() -> limits.check("key", "é€😀" + "x".repeat(12))).doesNotThrowAnyException();
    }

    @Test
    void refusesLongKeysNamingTheParameterAndTheLimit() {
        assertThatThrownBy(() -> limits.check("id", "x".repeat(17))).isInstanceOf(ApiProblem.class)
                .hasMessageContaining("'id'").hasMessageContaining("17").hasMessageContaining("16")
                .hasMessageContaining(PathParameterLimits.MAX_LENGTH_KEY);
    }

    @Test
    void refusesControlCharactersAndBrokenText() {
        assertThatThrownBy(() -> limits.check("key", "a\nb")).hasMessageContaining("'key'").hasMessageContaining("U+000A");
        assertThatThrownBy(() -> limits.check("key", "a\u007fb")).hasMessageContaining("U+007F");
        assertThatThrownBy(() -> limits.check("key", "a\ud800b")).hasMessageContaining("not valid UTF-8");
        assertThatThrownBy(() -> limits.check("key", "a\ufffdb")).hasMessageContaining("not valid UTF-8");
    }
}
