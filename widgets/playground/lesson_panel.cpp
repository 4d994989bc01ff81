#include "widgets/playground/lesson_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace qs::widgets {

LessonPanel::LessonPanel(QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel(this)),
      m_counter(new QLabel(this)),
      m_text(new QTextBrowser(this)),
      m_previous(new QPushButton(tr("◀ Previous"), this)),
      m_next(new QPushButton(tr("Next ▶"), this)) {
    m_title->setWordWrap(true);
    m_text->setOpenExternalLinks(false);
    m_text->setMinimumWidth(280);
    m_previous->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    m_next->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
    m_previous->setToolTip(tr("Previous step (Alt+Left)"));
    m_next->setToolTip(tr("Next step (Alt+Right)"));
    connect(m_previous, &QPushButton::clicked, this, [this] { go(-1); });
    connect(m_next, &QPushButton::clicked, this, [this] { go(+1); });
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_previous);
    buttons->addStretch();
    buttons->addWidget(m_counter);
    buttons->addStretch();
    buttons->addWidget(m_next);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_title);
    layout->addWidget(m_text, 1);
    layout->addLayout(buttons);
}

void LessonPanel::setLesson(const QString& title, const QList<LessonStepText>& steps) {
    m_steps = steps;
    m_title->setText(QStringLiteral("<h3>%1</h3>").arg(title.toHtmlEscaped()));
    showStep(0);
}

void LessonPanel::showStep(int index) {
    m_step = std::clamp(index, 0, std::max(stepCount() - 1, 0));
    if (m_steps.isEmpty()) {
        m_text->clear();
        m_counter->clear();
    } else {
        const auto& s = m_steps[m_step];
        m_text->setHtml(QStringLiteral("<h4>%1</h4>%2").arg(s.title.toHtmlEscaped(), s.html));
        m_counter->setText(tr("Step %1 of %2").arg(m_step + 1).arg(stepCount()));
    }
    m_previous->setEnabled(m_step > 0);
    m_next->setEnabled(m_step + 1 < stepCount());
}

void LessonPanel::go(int delta) {
    const int before = m_step;
    showStep(m_step + delta);
    if (m_step != before) emit stepChanged(m_step);
}

}  // namespace qs::widgets
