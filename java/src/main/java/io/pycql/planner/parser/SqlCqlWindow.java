package io.pycql.planner.parser;

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
  /** PARTITION BY column names; empty otherwise. */
  public final SqlNodeList partitionBy;

  public SqlCqlWindow(SqlParserPos pos, WindowSpec.Kind kind, long rangeMillis, Long slideMillis,
      long rows, SqlNodeList partitionBy) {
    super(pos);
    this.kind = kind;
    this.rangeMillis = rangeMillis;
    this.slideMillis = slideMillis;
    this.rows = rows;
    this.partitionBy = partitionBy == null ? new SqlNodeList(pos) : partitionBy;
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
      return WindowSpec.rows(rows);
    case PARTITION:
      return WindowSpec.partition(partitionKeys, rows);
    default:
      throw new AssertionError(kind);
    }
  }

  /** The window as CQL text, e.g. {@code [RANGE 30000 MILLISECONDS]}. */
  public String describe() {
    switch (kind) {
    case NOW:
      return "[NOW]";
    case UNBOUNDED:
      return "[UNBOUNDED]";
    case RANGE:
      return "[RANGE " + rangeMillis + " MILLISECONDS"
          + (slideMillis == null ? "" : " SLIDE " + slideMillis + " MILLISECONDS") + "]";
    case ROWS:
      return "[ROWS " + rows + "]";
    case PARTITION:
      StringBuilder b = new StringBuilder("[PARTITION BY ");
      for (int i = 0; i < partitionBy.size(); i++) {
        if (i > 0) {
          b.append(", ");
        }
        b.append(((SqlIdentifier) partitionBy.get(i)).getSimple());
      }
      return b.append(" ROWS ").append(rows).append("]").toString();
    default:
      throw new AssertionError(kind);
    }
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
