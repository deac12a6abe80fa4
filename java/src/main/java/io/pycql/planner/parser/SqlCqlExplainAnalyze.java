package io.pycql.planner.parser;

import org.apache.calcite.sql.SqlExplain;
import org.apache.calcite.sql.SqlExplainFormat;
import org.apache.calcite.sql.SqlExplainLevel;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code EXPLAIN ANALYZE q}: plan q as EXPLAIN does; the driver then runs it (bounded) and
 * reports what each source and the query did. A marker subclass of Calcite's
 * {@link SqlExplain}, so everything that handles EXPLAIN handles it.
 */
public final class SqlCqlExplainAnalyze extends SqlExplain {
  public SqlCqlExplainAnalyze(SqlParserPos pos, SqlNode explicandum, int dynamicParamCount) {
    super(pos, explicandum,
        SqlExplainLevel.EXPPLAN_ATTRIBUTES.symbol(SqlParserPos.ZERO),
        SqlExplain.Depth.PHYSICAL.symbol(SqlParserPos.ZERO),
        SqlExplainFormat.TEXT.symbol(SqlParserPos.ZERO),
        dynamicParamCount);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("EXPLAIN ANALYZE");
    getExplicandum().unparse(writer, 0, 0);
  }
}
