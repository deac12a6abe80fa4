package io.pycql.planner.ddl;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code TERMINATE query_id} or {@code TERMINATE ALL}: stop persistent queries. */
public final class SqlCqlTerminate extends SqlCall {
  private static final SqlOperator OPERATOR =
      new SqlSpecialOperator("TERMINATE", SqlKind.OTHER);

  /** The query id as written (an identifier or a string), or null for ALL. */
  public final String queryId;

  public SqlCqlTerminate(SqlParserPos pos, String queryId) {
    super(pos);
    this.queryId = queryId;
  }

  @Override public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of();
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("TERMINATE");
    if (queryId == null) {
      writer.keyword("ALL");
    } else {
      writer.identifier(queryId, true);
    }
  }
}
