package io.pycql.planner.ddl;

import java.util.List;
import org.apache.calcite.sql.SqlCreate;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code CREATE [OR REPLACE] VIEW name [(col, ...)] AS query}. */
public final class SqlCreateCqlView extends SqlCreate {
  private static final SqlOperator OPERATOR =
      new SqlSpecialOperator("CREATE VIEW", SqlKind.CREATE_VIEW);

  public final SqlIdentifier name;
  /** The declared column names, or null. */
  public final SqlNodeList columnNames;
  public final SqlNode query;

  public SqlCreateCqlView(SqlParserPos pos, boolean replace, SqlIdentifier name,
      SqlNodeList columnNames, SqlNode query) {
    super(OPERATOR, pos, replace, false);
    this.name = name;
    this.columnNames = columnNames;
    this.query = query;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of(name, query);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("CREATE VIEW");
    name.unparse(writer, 0, 0);
    writer.keyword("AS");
    query.unparse(writer, 0, 0);
  }
}
