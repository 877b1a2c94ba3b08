// Organisations and the city of their headquarters.
// Source: each organisation's own "about"/contact pages and annual reports (registered
// headquarters), as of 2025. Organisations that moved recently or whose headquarters is
// disputed between two cities (Airbus, Boeing, IKEA, ...) are left out.
#include "data/facts/facts.h"

namespace rs::data::facts {

const std::vector<Organisation>& organisations() {
  static const std::vector<Organisation> table = {
      // International organisations
      {"the United Nations", "New York City"},
      {"FIFA", "Zurich"},
      {"the International Olympic Committee", "Lausanne"},
      {"the World Health Organization", "Geneva"},
      {"the International Committee of the Red Cross", "Geneva"},
      {"the World Trade Organization", "Geneva"},
      {"NATO", "Brussels"},
      {"the European Central Bank", "Frankfurt"},
      {"UNESCO", "Paris"},
      {"the OECD", "Paris"},
      {"the World Bank", "Washington, D.C."},
      {"the International Monetary Fund", "Washington, D.C."},
      {"OPEC", "Vienna"},
      {"the International Atomic Energy Agency", "Vienna"},
      {"Interpol", "Lyon"},
      {"UEFA", "Nyon"},
      // Companies
      {"Toyota", "Toyota City"},
      {"Sony", "Tokyo"},
      {"Nintendo", "Kyoto"},
      {"Samsung Electronics", "Suwon"},
      {"Hyundai Motor Company", "Seoul"},
      {"BMW", "Munich"},
      {"Siemens", "Munich"},
      {"Volkswagen", "Wolfsburg"},
      {"Adidas", "Herzogenaurach"},
      {"Mercedes-Benz Group", "Stuttgart"},
      {"Porsche", "Stuttgart"},
      {"Nestlé", "Vevey"},
      {"Rolex", "Geneva"},
      {"Nokia", "Espoo"},
      {"Ericsson", "Stockholm"},
      {"Spotify", "Stockholm"},
      {"Volvo Cars", "Gothenburg"},
      {"Philips", "Amsterdam"},
      {"Heineken", "Amsterdam"},
      {"Lego", "Billund"},
      {"Carlsberg", "Copenhagen"},
      {"Ferrari", "Maranello"},
      {"Unilever", "London"},
      {"the BBC", "London"},
      {"Infosys", "Bengaluru"},
      {"Tata Group", "Mumbai"},
      {"Alibaba Group", "Hangzhou"},
      {"Huawei", "Shenzhen"},
      {"Embraer", "São José dos Campos"},
      {"Petrobras", "Rio de Janeiro"},
      {"Microsoft", "Redmond"},
      {"Apple", "Cupertino"},
      {"Google", "Mountain View"},
      {"Amazon", "Seattle"},
      {"the Coca-Cola Company", "Atlanta"},
      {"Tesla", "Austin"},
  };
  return table;
}

}  // namespace rs::data::facts
