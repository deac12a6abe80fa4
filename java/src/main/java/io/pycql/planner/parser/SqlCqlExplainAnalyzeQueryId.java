package io.pycql.planner.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code EXPLAIN ANALYZE query_id}: what a running persistent query has done (the driver
 * answers it); {@code EXPLAIN ANALYZE q} of a query is {@link SqlCqlExplainAnalyze}.
 */
public final class SqlCqlExplainAnalyzeQueryId extends SqlCall {
  private static final SqlOperator OPERATOR =
      new SqlSpecialOperator("EXPLAIN ANALYZE", SqlKind.OTHER);

  /** The query id as written (an identifier or a string). */
  public final String queryId;

  public SqlCqlExplainAnalyzeQueryId(SqlParserPos pos, String queryId) {
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
    writer.keyword("EXPLAIN ANALYZE");
    writer.identifier(queryId, true);
  }
}
