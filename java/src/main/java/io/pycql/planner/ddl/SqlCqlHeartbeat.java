package io.pycql.planner.ddl;

import java.util.Arrays;
import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code ALTER STREAM name HEARTBEAT timestamp}: CQL's heartbeat, "the stream has no more
 * elements stamped before this instant". The timestamp is an expression (a TIMESTAMP, an
 * integer of epoch milliseconds, or {@code ?}); the planner checks its type.
 */
public final class SqlCqlHeartbeat extends SqlCall {
  private static final SqlOperator OPERATOR =
      new SqlSpecialOperator("ALTER STREAM HEARTBEAT", SqlKind.OTHER_DDL);

  public final SqlIdentifier name;
  public final SqlNode timestamp;

  public SqlCqlHeartbeat(SqlParserPos pos, SqlIdentifier name, SqlNode timestamp) {
    super(pos);
    this.name = name;
    this.timestamp = timestamp;
  }

  @Override public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override public List<SqlNode> getOperandList() {
    return Arrays.asList(name, timestamp);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("ALTER STREAM");
    name.unparse(writer, leftPrec, rightPrec);
    writer.keyword("HEARTBEAT");
    timestamp.unparse(writer, leftPrec, rightPrec);
  }
}
