package io.pycql.planner.parser;

import io.pycql.planner.CqlPlannerError;
import io.pycql.planner.parser.impl.Token;
import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * A CQL window as written after a stream reference: {@code [RANGE 30 SECONDS]}.
 * The parser wraps the stream as {@code OVER(stream, window)}. Partition columns
 * are names here; they become field indexes when the window is resolved.
 */
public final class SqlCqlWindow extends SqlCall {
  public static final SqlOperator OPERATOR =
      new SqlSpecialOperator("CQL_WINDOW", SqlKind.OTHER) {
        @Override public SqlCall createCall(org.apache.calcite.sql.SqlLiteral q,
            SqlParserPos pos, SqlNode... operands) {
          throw new UnsupportedOperationException();
        }
      };

  public final WindowSpec.Kind kind;
  public final long rangeMillis;
  public final Long slideMillis;
  public final long rows;
  /** ROWS n SLIDE m: m; else null. */
  public final Long slideRows;
  /** SESSION: the gap in milliseconds; else 0. */
  public final long gapMillis;
  /** PARTITION BY column names; empty otherwise. */
  public final SqlNodeList partitionBy;

  /** The window as the user wrote it, e.g. {@code [RANGE 1 MINUTE]}; null if built in code. */
  public final String text;
  /** The user's text of the RANGE, SLIDE and ROWS values ({@code 1 MINUTE}), or null. */
  public final String rangeText;
  public final String slideText;
  public final String rowsText;
  /** The user's text of a ROWS window's SLIDE and of a SESSION gap, or null. */
  public final String slideRowsText;
  public final String gapText;

  public SqlCqlWindow(SqlParserPos pos, WindowSpec.Kind kind, long rangeMillis, Long slideMillis,
      long rows, SqlNodeList partitionBy) {
    this(pos, kind, rangeMillis, slideMillis, rows, null, 0, partitionBy, null, null, null, null,
        null, null);
  }

  public SqlCqlWindow(SqlParserPos pos, WindowSpec.Kind kind, long rangeMillis, Long slideMillis,
      long rows, Long slideRows, long gapMillis, SqlNodeList partitionBy, String text,
      String rangeText, String slideText, String rowsText, String slideRowsText,
      String gapText) {
    super(pos);
    this.kind = kind;
    this.rangeMillis = rangeMillis;
    this.slideMillis = slideMillis;
    this.rows = rows;
    this.slideRows = slideRows;
    this.gapMillis = gapMillis;
    this.slideRowsText = slideRowsText;
    this.gapText = gapText;
    this.partitionBy = partitionBy == null ? new SqlNodeList(pos) : partitionBy;
    this.text = text;
    this.rangeText = rangeText;
    this.slideText = slideText;
    this.rowsText = rowsText;
  }

  /**
   * The text of the tokens {@code first} to {@code last} as written: the spaces between
   * tokens on one line are kept, a line break becomes one space, comments become spaces.
   */
  public static String text(Token first, Token last) {
    StringBuilder b = new StringBuilder();
    Token prev = null;
    for (Token t = first; t != null; t = t.next) {
      if (prev != null) {
        if (t.beginLine == prev.endLine) {
          b.append(" ".repeat(Math.max(0, t.beginColumn - prev.endColumn - 1)));
        } else {
          b.append(' ');
        }
      }
      b.append(t.image);
      prev = t;
      if (t == last) {
        break;
      }
    }
    return b.toString();
  }

  /**
   * Checks the window's bounds: a RANGE, SLIDE, ROWS and SESSION gap is positive, a SLIDE is
   * at most its RANGE or ROWS (equal is a tumbling window). The errors point at the window.
   */
  public void validate() {
    switch (kind) {
    case RANGE:
      if (rangeMillis <= 0) {
        throw CqlPlannerError.validate(getParserPosition(), "RANGE (" + shown(rangeText,
            rangeMillis + " MILLISECONDS") + ") must be greater than zero; [NOW] is the "
            + "window of the current instant");
      }
      if (slideMillis != null && slideMillis <= 0) {
        throw CqlPlannerError.validate(getParserPosition(), "SLIDE (" + shown(slideText,
            slideMillis + " MILLISECONDS") + ") must be greater than zero");
      }
      if (slideMillis != null && slideMillis > rangeMillis) {
        throw CqlPlannerError.validate(getParserPosition(), "SLIDE (" + shown(slideText,
            slideMillis + " MILLISECONDS") + ") must not exceed RANGE ("
            + shown(rangeText, rangeMillis + " MILLISECONDS") + ")");
      }
      break;
    case ROWS:
    case PARTITION:
      if (rows <= 0) {
        throw CqlPlannerError.validate(getParserPosition(), "ROWS (" + shown(rowsText,
            String.valueOf(rows)) + ") must be at least 1");
      }
      if (slideRows != null && slideRows <= 0) {
        throw CqlPlannerError.validate(getParserPosition(), "SLIDE (" + shown(slideRowsText,
            String.valueOf(slideRows)) + ") must be at least 1");
      }
      if (slideRows != null && slideRows > rows) {
        throw CqlPlannerError.validate(getParserPosition(), "SLIDE (" + shown(slideRowsText,
            String.valueOf(slideRows)) + ") must not exceed ROWS ("
            + shown(rowsText, String.valueOf(rows)) + ")");
      }
      break;
    case SESSION:
      if (gapMillis <= 0) {
        throw CqlPlannerError.validate(getParserPosition(), "SESSION gap (" + shown(gapText,
            gapMillis + " MILLISECONDS") + ") must be greater than zero");
      }
      break;
    default:
      break;
    }
  }

  private static String shown(String userText, String canonical) {
    return userText != null ? userText : canonical;
  }

  /** The window's spec, with partition columns resolved to field indexes by the caller. */
  public WindowSpec toSpec(List<Integer> partitionKeys) {
    switch (kind) {
    case NOW:
      return WindowSpec.now();
    case UNBOUNDED:
      return WindowSpec.unbounded();
    case RANGE:
      return slideMillis == null ? WindowSpec.range(rangeMillis)
          : WindowSpec.range(rangeMillis, slideMillis);
    case ROWS:
      return slideRows == null ? WindowSpec.rows(rows) : WindowSpec.rows(rows, slideRows);
    case PARTITION:
      return slideRows == null ? WindowSpec.partition(partitionKeys, rows)
          : WindowSpec.partition(partitionKeys, rows, slideRows);
    case SESSION:
      return WindowSpec.session(partitionKeys, gapMillis);
    default:
      throw new AssertionError(kind);
    }
  }

  /** The window as the user wrote it, e.g. {@code [RANGE 1 MINUTE]}. */
  public String describe() {
    return text != null ? text : canonical();
  }

  /** The window as CQL text in milliseconds, e.g. {@code [RANGE 30000 MILLISECONDS]}. */
  public String canonical() {
    switch (kind) {
    case NOW:
      return "[NOW]";
    case UNBOUNDED:
      return "[UNBOUNDED]";
    case RANGE:
      return "[RANGE " + rangeMillis + " MILLISECONDS"
          + (slideMillis == null ? "" : " SLIDE " + slideMillis + " MILLISECONDS") + "]";
    case ROWS:
      return "[ROWS " + rows + slideRowsCanonical() + "]";
    case PARTITION:
      return "[" + partitionCanonical() + "ROWS " + rows + slideRowsCanonical() + "]";
    case SESSION:
      return "[" + partitionCanonical() + "SESSION " + gapMillis + " MILLISECONDS]";
    default:
      throw new AssertionError(kind);
    }
  }

  private String slideRowsCanonical() {
    return slideRows == null ? "" : " SLIDE " + slideRows;
  }

  /** {@code PARTITION BY a, b } (with the trailing space), or nothing. */
  private String partitionCanonical() {
    if (partitionBy.size() == 0) {
      return "";
    }
    StringBuilder b = new StringBuilder("PARTITION BY ");
    for (int i = 0; i < partitionBy.size(); i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(((SqlIdentifier) partitionBy.get(i)).getSimple());
    }
    return b.append(' ').toString();
  }

  @Override public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of(partitionBy);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.print(describe());
  }
}
