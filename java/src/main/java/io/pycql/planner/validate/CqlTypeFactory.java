package io.pycql.planner.validate;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.apache.calcite.jdbc.JavaTypeFactoryImpl;

/**
 * The planner's type factory: Calcite's, with UTF-8 as the charset of character types and
 * literals (Calcite's own default is ISO-8859-1, which refuses {@code '東京'}).
 */
public final class CqlTypeFactory extends JavaTypeFactoryImpl {
  @Override public Charset getDefaultCharset() {
    return StandardCharsets.UTF_8;
  }
}
