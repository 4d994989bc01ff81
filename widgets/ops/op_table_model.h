// Table model of a subgraph's operators, one row per op in execution order.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

namespace qs::widgets {

// What the table shows of one op: plain text and numbers, filled by the app from the model IR.
struct OpRow {
    int index = 0;
    QString type;            // "CONV_2D", or the custom code
    QString options;         // "s1x1 SAME RELU"
    QString inputs;          // "0,1,2"
    QString outputs;         // "22"
    QString outputName;      // name of the first output tensor
    QString outputDtype;     // "INT8"
    QString outputShape;     // "[1,32,32,16]"
    QString outputQuant;     // "s=0.0235 zp=-128"
    QString weightsQuant;    // "16 ch (axis 0), s=[..] zp=0" or empty
};

class OpTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // The long tensor names go last so the short, telling columns stay on screen.
    enum Column { Index, Type, Options, Dtype, Shape, OutputQuant, WeightsQuant, Inputs, Outputs,
                  OutputName, ColumnCount };
    // Sort role: the op index column sorts numerically.
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit OpTableModel(QObject* parent = nullptr);

    void setRows(QVector<OpRow> rows);
    const OpRow* row(int r) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVector<OpRow> m_rows;
};

}  // namespace qs::widgets
