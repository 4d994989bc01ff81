// The widget test classes, registered by each test file.
#pragma once

#include <QObject>
#include <vector>

namespace qs::test {

std::vector<QObject*> allWidgetTests();

QObject* makeGraphLayoutTest();
QObject* makeGraphViewTest();

inline std::vector<QObject*> allWidgetTests() {
    return {makeGraphLayoutTest(), makeGraphViewTest()};
}

}  // namespace qs::test
