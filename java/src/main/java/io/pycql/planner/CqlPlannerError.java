package io.pycql.planner;

import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * A failure the planner reports to the user: its kind (parse, validate,
 * unsupported, internal), a message and the position in the user's text.
 */
public final class CqlPlannerError extends RuntimeException {
  /** The error kinds of docs/plan-json.md. */
  public enum Kind { PARSE, VALIDATE, UNSUPPORTED, INTERNAL }

  public final Kind kind;
  /** Position in the user's text, or null when unknown. */
  public final SqlParserPos pos;

  public CqlPlannerError(Kind kind, String message, SqlParserPos pos) {
    super(message, null, false, false);
    this.kind = kind;
    this.pos = pos == null || pos.getLineNum() <= 0 ? null : pos;
  }

  public static CqlPlannerError validate(SqlParserPos pos, String message) {
    return new CqlPlannerError(Kind.VALIDATE, message, pos);
  }

  public static CqlPlannerError unsupported(SqlParserPos pos, String message) {
    return new CqlPlannerError(Kind.UNSUPPORTED, message, pos);
  }
}
