// The model open in the main window, and the value rows the widgets show of it.
#pragma once

#include <QString>
#include <QVector>
#include <memory>

#include "model/error.h"
#include "model/model.h"
#include "widgets/ops/op_table_model.h"

namespace qs::app {

class ModelDocument {
public:
    static Result<std::shared_ptr<const ModelDocument>> open(const QString& path);

    const model::Model& model() const { return m_model; }
    QString path() const { return m_path; }
    QString fileName() const;
    // One line for the window's header: ops, tensors, inputs and outputs of subgraph `sg`.
    QString summary(int subgraph) const;
    QVector<widgets::OpRow> opRows(int subgraph) const;

private:
    model::Model m_model;
    QString m_path;
};

}  // namespace qs::app
