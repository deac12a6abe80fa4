package io.pycql.planner;

import java.nio.charset.StandardCharsets;
import org.apache.calcite.util.Util;

/**
 * Calcite's process-wide defaults for pycql: character data is UTF-8.
 *
 * <p>Calcite reads {@code calcite.default.charset}, {@code calcite.default.nationalcharset} and
 * {@code calcite.default.collation.name} once, when {@code CalciteSystemProperty} initializes,
 * from the system properties and from a {@code saffron.properties} resource. The jar carries
 * that resource (src/main/resources/saffron.properties), and {@link #install()} sets the same
 * system properties (unless someone set them already) before the planner touches a Calcite
 * class, so either way works, whichever thread and class loader come first. The planner's type
 * factory ({@link io.pycql.planner.validate.CqlTypeFactory}) makes UTF-8 its default charset
 * too, so literals and columns agree even in a JVM where Calcite was initialized earlier.
 */
public final class CalciteDefaults {
  /** The charset of every character type and literal. */
  public static final String CHARSET = "UTF-8";

  private CalciteDefaults() {
  }

  /** Sets the system properties (idempotent; call before any Calcite class initializes). */
  public static void install() {
    setIfAbsent("calcite.default.charset", CHARSET);
    setIfAbsent("calcite.default.nationalcharset", CHARSET);
    setIfAbsent("calcite.default.collation.name", CHARSET + "$en_US");
  }

  /** True if Calcite runs with UTF-8 as its default charset in this JVM. */
  public static boolean active() {
    return Util.getDefaultCharset().equals(StandardCharsets.UTF_8);
  }

  private static void setIfAbsent(String key, String value) {
    try {
      if (System.getProperty(key) == null) {
        System.setProperty(key, value);
      }
    } catch (SecurityException ignored) {
      // saffron.properties still applies
    }
  }
}
