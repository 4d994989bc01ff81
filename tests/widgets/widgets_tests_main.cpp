// Runs every widget test class in one executable (QTEST_MAIN takes only one).
#include <QApplication>
#include <QtTest>

#include "widgets_tests.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    int status = 0;
    for (QObject* test : qs::test::allWidgetTests()) {
        status |= QTest::qExec(test, argc, argv);
        delete test;
    }
    return status;
}
