#include "widgets/plots/plot_export.h"

#include <qcustomplot.h>
#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QSaveFile>
#include <QSvgGenerator>

namespace qs::widgets {

namespace {

// Owned by the plot, so the CSV source lives exactly as long as the plot does.
class CsvHolder : public QObject {
public:
    CsvHolder(QObject* parent, CsvSource s) : QObject(parent), source(std::move(s)) {}
    CsvSource source;
};

bool writeBytes(const QString& path, const QByteArray& bytes, QString* error) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error) *error = file.errorString();
        return false;
    }
    return true;
}

}  // namespace

CsvSource plotCsv(const QCustomPlot* plot) {
    for (QObject* child : plot->children())
        if (auto* h = dynamic_cast<CsvHolder*>(child)) return h->source;
    return {};
}

bool savePlotImage(QCustomPlot* plot, const QString& path, QString* error) {
    const bool svg =
        QFileInfo(path).suffix().compare(QStringLiteral("svg"), Qt::CaseInsensitive) == 0;
    if (!svg) {
        // 2x for sharp text; QCustomPlot renders at the widget's size.
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly)) {
            if (error) *error = file.errorString();
            return false;
        }
        const QPixmap pixmap = plot->toPixmap(plot->width(), plot->height(), 2.0);
        if (!pixmap.save(&file, "PNG") || !file.commit()) {
            if (error) *error = file.errorString();
            return false;
        }
        return true;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error) *error = file.errorString();
        return false;
    }
    QSvgGenerator gen;
    gen.setOutputDevice(&file);
    gen.setSize(plot->size());
    gen.setViewBox(QRect(QPoint(), plot->size()));
    gen.setTitle(QStringLiteral("Quantscope plot"));
    QCPPainter painter(&gen);
    plot->toPainter(&painter, plot->width(), plot->height());
    painter.end();
    if (!file.commit()) {
        if (error) *error = file.errorString();
        return false;
    }
    return true;
}

bool savePlotCsv(const CsvSource& csv, const QString& path, QString* error) {
    if (!csv) {
        if (error) *error = QObject::tr("this plot has no data");
        return false;
    }
    return writeBytes(path, csv().toUtf8(), error);
}

void copyPlot(QCustomPlot* plot, const CsvSource& csv) {
    auto* mime = new QMimeData;
    mime->setImageData(plot->toPixmap().toImage());
    if (csv) {
        const QString text = csv();
        mime->setText(text);
        mime->setData(QStringLiteral("text/csv"), text.toUtf8());
    }
    QApplication::clipboard()->setMimeData(mime);
}

void installPlotMenu(QCustomPlot* plot, CsvSource csv, const QString& baseName) {
    for (QObject* child : plot->children())
        if (auto* h = dynamic_cast<CsvHolder*>(child)) delete h;
    new CsvHolder(plot, std::move(csv));
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot, baseName](QPoint at) {
        QMenu menu(plot);
        const CsvSource source = plotCsv(plot);
        auto report = [plot](bool ok, const QString& path, const QString& error) {
            if (!ok)
                QMessageBox::warning(plot, QObject::tr("Export failed"),
                                     QObject::tr("%1: %2").arg(path, error));
        };
        menu.addAction(QObject::tr("Export PNG…"), plot, [=] {
            const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Export plot"),
                                                              baseName + QStringLiteral(".png"),
                                                              QObject::tr("PNG image (*.png)"));
            QString error;
            if (!path.isEmpty()) report(savePlotImage(plot, path, &error), path, error);
        });
        menu.addAction(QObject::tr("Export SVG…"), plot, [=] {
            const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Export plot"),
                                                              baseName + QStringLiteral(".svg"),
                                                              QObject::tr("SVG image (*.svg)"));
            QString error;
            if (!path.isEmpty()) report(savePlotImage(plot, path, &error), path, error);
        });
        QAction* csvAction = menu.addAction(QObject::tr("Export CSV…"), plot, [=] {
            const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Export plot data"),
                                                              baseName + QStringLiteral(".csv"),
                                                              QObject::tr("CSV (*.csv)"));
            QString error;
            if (!path.isEmpty()) report(savePlotCsv(source, path, &error), path, error);
        });
        csvAction->setEnabled(static_cast<bool>(source));
        menu.addSeparator();
        menu.addAction(QObject::tr("Copy"), plot, [=] { copyPlot(plot, source); });
        menu.exec(plot->mapToGlobal(at));
    });
}

}  // namespace qs::widgets
