// One pipeline of the preprocessing lab: its editors (name, resize method, size, crop, channel
// order, normalization), the resized image, pixel statistics, the model's top-k classes and
// the accumulated-error summary, with "Use as input" and "Remove".
#pragma once

#include <QFrame>

#include "widgets/preprocess/lab_data.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace qs::widgets {

class PixelImageView;
class ZoomLink;

class PipelineColumn : public QFrame {
    Q_OBJECT
public:
    PipelineColumn(const LabChoices& choices, ZoomLink* link, QWidget* parent = nullptr);

    void setSpec(const LabPipelineSpec& spec);
    LabPipelineSpec spec() const;
    void setResult(const LabPipelineResult& result);
    // Waiting for a result: the previous one is greyed.
    void setPending(bool pending);
    void setRemovable(bool removable);

    PixelImageView* view() const { return m_view; }
    QComboBox* methodBox() const { return m_method; }
    QComboBox* normBox() const { return m_norm; }
    QPushButton* useButton() const { return m_use; }
    QLabel* topLabel() const { return m_top; }
    QLabel* errorLabel() const { return m_errors; }

signals:
    void specChanged();
    void useAsInputClicked();
    void removeClicked();

private:
    void updateCustomEnabled();

    QLineEdit* m_name;
    QToolButton* m_remove;
    QComboBox* m_method;
    QSpinBox* m_width;
    QSpinBox* m_height;
    QComboBox* m_crop;
    QComboBox* m_order;
    QComboBox* m_norm;
    QLineEdit* m_mean;
    QLineEdit* m_std;
    QLineEdit* m_divisor;
    PixelImageView* m_view;
    QLabel* m_info;
    QLabel* m_stats;
    QLabel* m_top;
    QLabel* m_errors;
    QPushButton* m_use;
    bool m_loading = false;
};

}  // namespace qs::widgets
