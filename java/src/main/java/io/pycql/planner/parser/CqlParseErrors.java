package io.pycql.planner.parser;

import org.apache.calcite.runtime.CalciteContextException;
import org.apache.calcite.sql.parser.SqlParserPos;

/** Errors raised by CQL grammar actions, with the position of the offending text. */
public final class CqlParseErrors {
  private CqlParseErrors() {
  }

  /** A parse error at {@code pos}; the generated parser turns it into a SqlParseException. */
  public static CalciteContextException at(SqlParserPos pos, String message) {
    return new CalciteContextException(message, new CqlSyntaxError(message),
        pos.getLineNum(), pos.getColumnNum(), pos.getEndLineNum(), pos.getEndColumnNum());
  }

  /** The cause carried inside the context exception: only its message is shown. */
  public static final class CqlSyntaxError extends RuntimeException {
    CqlSyntaxError(String message) {
      super(message, null, false, false);
    }

    @Override public String toString() {
      return getMessage();
    }
  }
}
