package io.compozy.cache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.config.JCacheSettings.DeclaredCache;
import io.compozy.cache.config.JCacheSettings.Expiry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JCacheSettingsTest {

    @Test
    void namesDurationsAndPoliciesAsWritten() {
        assertThat(JCacheSettings.parse("products=10m, prices=accessed:30s ,countries,, tokens=touched:PT1H").caches())
                .containsExactly(
                        new DeclaredCache("products", Expiry.CREATED, Optional.of(Duration.ofMinutes(10))),
                        new DeclaredCache("prices", Expiry.ACCESSED, Optional.of(Duration.ofSeconds(30))),
                        new DeclaredCache("countries", Expiry.ETERNAL, Optional.empty()),
                        new DeclaredCache("tokens", Expiry.TOUCHED, Optional.of(Duration.ofHours(1))));
    }

    @Test
    void unsetMeansNoCache() {
        assertThat(JCacheSettings.load(ConfigLookup.of(Map.of())).caches()).isEmpty();
    }

    @Test
    void mistakesNameTheKeyAndTheCache() {
        assertThatThrownBy(() -> JCacheSettings.parse("a=5m, a")).hasMessageContaining("'compozy.jcache.caches'")
                .hasMessageContaining("'a' is declared twice");
        assertThatThrownBy(() -> JCacheSettings.parse("bad name")).hasMessageContaining("'bad name' is not a cache name");
        assertThatThrownBy(() -> JCacheSettings.parse("p=later:5m")).hasMessageContaining("'later' is not an expiry policy");
        assertThatThrownBy(() -> JCacheSettings.parse("p=soon")).hasMessageContaining("cache 'p'")
                .hasMessageContaining("'soon' is not a duration");
        assertThatThrownBy(() -> JCacheSettings.parse("p=0s")).isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("greater than zero");
    }

    @Test
    void allowedClassesAreJep290PatternsAndABadOneNamesTheKey() {
        assertThat(JCacheSettings.load(ConfigLookup.of(Map.of(JCacheSettings.ALLOWED_CLASSES,
                " com.example.shop.*;com.example.Price "))).allowedClasses())
                .isEqualTo("com.example.shop.*;com.example.Price");
        assertThat(JCacheSettings.load(ConfigLookup.of(Map.of())).allowedClasses()).isEmpty();
        assertThatThrownBy(() -> JCacheSettings.load(ConfigLookup.of(Map.of(JCacheSettings.ALLOWED_CLASSES,
                "com.example.*;maxdepth=deep"))))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("'compozy.jcache.allowed_classes'")
                .hasMessageContaining("not a JEP 290 filter");
    }
}
