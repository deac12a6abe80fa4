package io.pycql.planner.validate;

import org.apache.calcite.runtime.CalciteContextException;

/** Turns Calcite's exception texts into messages for users. */
public final class Errors {
  private Errors() {
  }

  /** The first line of a (parser) message, without Calcite's " at line N, column M." suffix. */
  public static String firstLine(String message) {
    if (message == null) {
      return "Syntax error";
    }
    String first = message.split("\n", 2)[0].trim();
    return first.replaceAll("\\s+at line \\d+, column \\d+\\.?$", "").trim();
  }

  /** The message of a validator exception without its "From line 1, column 8 ..." prefix. */
  public static String contextMessage(CalciteContextException e) {
    Throwable cause = e.getCause();
    String m = cause != null && cause.getMessage() != null ? cause.getMessage() : e.getMessage();
    m = stripClassNames(m);
    if (m.matches("(?s)Cannot apply '-' to arguments of type '<(TIMESTAMP|DATE)[^>]*> - "
        + "<(TIMESTAMP|DATE)[^>]*>'.*")) {
      // SQL gives the difference of two times a qualifier (PostgreSQL's bare t2 - t1 is not SQL)
      return m.split("\\.", 2)[0].replaceAll("\\. Supported form.*", "")
          + ": the difference of two times needs a qualifier, (t2 - t1) DAY TO SECOND (an "
          + "interval) or (t2 - t1) SECOND, or is a count: TIMESTAMPDIFF(SECOND, t1, t2)";
    }
    return FunctionSuggestions.amend(m);
  }

  /** Removes Java class names such as "org.apache.calcite.x.FooException: ". */
  public static String stripClassNames(String m) {
    if (m == null) {
      return "";
    }
    return m.replaceAll("(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error): ", "")
        .trim();
  }
}
