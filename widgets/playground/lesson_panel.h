// A guided lesson's text, one step at a time, with Previous / Next. The lesson content and
// what each step sets up in the main window come from the app (app/gui/lessons.h); this panel
// only shows the text and reports which step the user moved to.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

class QLabel;
class QPushButton;
class QTextBrowser;

namespace qs::widgets {

struct LessonStepText {
    QString title;
    QString html;
};

class LessonPanel : public QWidget {
    Q_OBJECT
public:
    explicit LessonPanel(QWidget* parent = nullptr);

    void setLesson(const QString& title, const QList<LessonStepText>& steps);
    // Shows step `index` (clamped) without emitting stepChanged.
    void showStep(int index);
    int step() const { return m_step; }
    int stepCount() const { return static_cast<int>(m_steps.size()); }
    QTextBrowser* text() const { return m_text; }

signals:
    void stepChanged(int index);

private:
    void go(int delta);

    QList<LessonStepText> m_steps;
    int m_step = 0;
    QLabel* m_title;
    QLabel* m_counter;
    QTextBrowser* m_text;
    QPushButton* m_previous;
    QPushButton* m_next;
};

}  // namespace qs::widgets
